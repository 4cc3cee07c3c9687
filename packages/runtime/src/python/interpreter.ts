// Finding the Python interpreter a runtime needs. v1 shipped one inside each image; natively we
// use the device's own: the configured one, else python2.7 / python3.6 from PATH or pyenv, and
// for python36 any python3 as a last resort (with a warning, since results may differ).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, sep } from 'node:path';

export interface Interpreter {
  path: string;
  /** "2.7.18" */
  version: string;
  /** Why this one: "runtime.python in the config", "pyenv 3.6.15", "PATH"... */
  source: string;
}

export interface FindOptions {
  runtime: 'python27' | 'python36';
  /** runtime.python from the service.yml. */
  configured?: string;
  configFile: string;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
}

/** A missing or unusable interpreter: the message says what was tried and how to configure one. */
export class InterpreterError extends Error {
  override name = 'InterpreterError';
}

const WANT = { python27: { major: 2, minor: 7, label: 'Python 2.7' }, python36: { major: 3, minor: 6, label: 'Python 3.6' } } as const;

/** Runs the candidate and asks its version; undefined if it does not run. */
export function probe(path: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  // -S: skip site, which is most of an interpreter's start-up and says nothing about its version.
  const res = spawnSync(path, ['-S', '-c', 'import sys; sys.stdout.write("%d.%d.%d" % tuple(sys.version_info[:3]))'], {
    env,
    encoding: 'utf8',
    timeout: 15000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (res.status !== 0 || !/^\d+\.\d+\.\d+$/.test(res.stdout)) return undefined;
  return res.stdout;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string[] {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return dirs.map((d) => join(d, name)).filter((p) => existsSync(p));
}

function pyenvRoot(env: NodeJS.ProcessEnv): string {
  if (env.PYENV_ROOT) return env.PYENV_ROOT;
  return join(env.HOME ?? homedir(), '.pyenv');
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** pyenv's versions/<major.minor>.* installs, newest first. */
function pyenvCandidates(root: string, major: number, minor: number): string[] {
  let entries: string[];
  try {
    entries = readdirSync(join(root, 'versions'));
  } catch {
    return [];
  }
  return entries
    .filter((v) => new RegExp(`^${major}\\.${minor}\\.\\d+$`).test(v))
    .sort((a, b) => compareVersions(b, a))
    .map((v) => join(root, 'versions', v, 'bin', `python${major}.${minor}`));
}

export function findPython(opts: FindOptions): Interpreter {
  const env = opts.env ?? process.env;
  const want = WANT[opts.runtime];
  const envName = opts.runtime === 'python27' ? 'BAETYL_PYTHON27' : 'BAETYL_PYTHON36';
  const howTo =
    `Install ${want.label}, or set "runtime: {python: /path/to/python${want.major}.${want.minor}}" in ${opts.configFile} ` +
    `(or the ${envName} or BAETYL_PYTHON environment variable) to the interpreter to use.`;

  const explicit: Array<[string | undefined, string]> = [
    [opts.configured, `runtime.python in ${opts.configFile}`],
    [env[envName], `the ${envName} environment variable`],
    [env.BAETYL_PYTHON, 'the BAETYL_PYTHON environment variable'],
  ];
  for (const [value, source] of explicit) {
    if (!value) continue;
    const version = probe(value, env);
    if (!version) throw new InterpreterError(`the ${opts.runtime} runtime cannot run the Python interpreter "${value}" set by ${source}. ${howTo}`);
    const [major, minor] = version.split('.').map(Number);
    if (major !== want.major || minor !== want.minor) {
      opts.warn?.(`the ${opts.runtime} runtime uses Python ${version} from ${source}, not ${want.label}: results may differ from Baetyl v1`);
    }
    return { path: value, version, source };
  }

  const tried: string[] = [];
  const exact = `python${want.major}.${want.minor}`;
  const root = pyenvRoot(env);
  // pyenv's shims are slow bash wrappers that only work for the active version; the versions
  // they point to are probed directly below.
  const shims = join(root, 'shims');
  const notShim = (p: string) => !p.startsWith(shims + sep);
  const candidates: Array<[string, string]> = [
    ...onPath(exact, env)
      .filter(notShim)
      .map((p): [string, string] => [p, 'PATH']),
    ...pyenvCandidates(root, want.major, want.minor).map((p): [string, string] => [p, 'pyenv']),
  ];
  if (want.major === 2)
    candidates.push(
      ...onPath('python2', env)
        .filter(notShim)
        .map((p): [string, string] => [p, 'PATH']),
    );
  for (const [path, source] of candidates) {
    tried.push(path);
    const version = probe(path, env);
    if (version?.startsWith(`${want.major}.${want.minor}.`)) return { path, version, source };
  }
  if (want.major === 3) {
    for (const path of onPath('python3', env)) {
      tried.push(path);
      const version = probe(path, env);
      if (version?.startsWith('3.')) {
        opts.warn?.(
          `the python36 runtime found no Python 3.6 (tried ${exact} on PATH and in ${join(root, 'versions')}); using Python ${version} at ${path}. ` +
            `Error texts show that version's repr (e.g. TypeError('x') instead of TypeError('x',)). ${howTo}`,
        );
        return { path, version, source: 'PATH (fallback)' };
      }
    }
  }
  const looked = tried.length ? ` Tried: ${tried.join(', ')}.` : '';
  throw new InterpreterError(
    `the ${opts.runtime} runtime needs ${want.label} (${exact}), and none was found on PATH or under ${join(root, 'versions')}.${looked} ${howTo}`,
  );
}
