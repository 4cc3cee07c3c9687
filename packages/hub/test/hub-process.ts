// Starts the hub as the master would in native mode: a child process running dist/src/main.js
// with cwd = a service directory holding etc/baetyl/service.yml. Ports are chosen by the hub
// (listen on port 0) and read back from its "hub listening" log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAIN_JS = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.js');

export interface HubProcess {
  dir: string;
  proc: ChildProcess;
  /** Bound listener URLs, in `listen` order. */
  addresses: string[];
  /** The first bound address of a scheme (tcp, ssl, ws, wss). */
  url(scheme: string): string;
  output(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** service.yml text. */
  config: string;
  /** Reuse a service directory (to restart a hub on the same store). */
  dir?: string;
  /** Extra files to write, relative to the service directory. */
  files?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

const dirs = new Set<string>();

/** A fresh service directory, removed by stopAllHubs. */
export function serviceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hub-test-'));
  dirs.add(dir);
  return dir;
}

function prepare(opts: StartOptions): string {
  const dir = opts.dir ?? serviceDir();
  mkdirSync(join(dir, 'etc', 'baetyl'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'baetyl', 'service.yml'), opts.config);
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function launch(dir: string, opts: StartOptions): { proc: ChildProcess; output: () => string; exited: HubProcess['exited'] } {
  const env = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith('BAETYL_') && !(opts.env && k in opts.env)) delete env[k];
  const proc = spawn(process.execPath, [MAIN_JS, ...(opts.args ?? [])], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      ok({ code, signal });
    });
  });
  return { proc, output: () => out, exited };
}

/** Starts a hub and waits until it logs "hub started". */
export async function startHubProcess(opts: StartOptions): Promise<HubProcess> {
  const dir = prepare(opts);
  const { proc, output, exited } = launch(dir, opts);
  let done = false;
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`hub did not start within 60 s:\n${output()}`)), 60_000);
    const check = () => {
      if (!done && /msg="hub started"/.test(output())) {
        done = true;
        clearTimeout(timer);
        ok();
      }
    };
    proc.stderr!.on('data', check);
    void exited.then(({ code, signal }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fail(new Error(`hub exited (${code ?? signal}) before starting:\n${output()}`));
    });
  });
  const addresses = [...output().matchAll(/msg="hub listening" address=(\S+)/g)].map((m) => m[1]!);
  return {
    dir,
    proc,
    addresses,
    url(scheme: string) {
      const a = addresses.find((x) => x.startsWith(`${scheme}://`));
      if (!a) throw new Error(`no ${scheme} listener in ${addresses.join(', ')}`);
      return a;
    },
    output,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return (await exited).code;
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a hub that is expected to refuse its config; resolves with its exit code and output. */
export async function runHubExpectingExit(opts: StartOptions): Promise<{ code: number | null; output: string }> {
  const dir = prepare(opts);
  const { proc, output, exited } = launch(dir, opts);
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  const { code } = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

/** Kills every hub these helpers started and that still runs, and removes their directories (for `after`). */
export async function stopAllHubs(): Promise<void> {
  const waits = [...live].map((p) => new Promise<void>((ok) => {
    p.once('exit', () => ok());
    p.kill('SIGKILL');
  }));
  await Promise.all(waits);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

/** A service.yml with one principal allowed everything, on the given listeners. */
export function openConfig(listen: string[] = ['tcp://127.0.0.1:0'], extra = ''): string {
  return `listen:
${listen.map((l) => `  - ${l}`).join('\n')}
principals:
  - username: test
    password: hahaha
    permissions:
      - action: pub
        permit: ['#']
      - action: sub
        permit: ['#']
logger:
  level: debug
${extra}`;
}
