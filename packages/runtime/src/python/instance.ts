// How a python27/python36 instance is started: the interpreter itself runs the runtime
// (packages/runtime/python/run.py, dependency-free Python), with no Node process in between.
// Its service.yml is checked here first, by the same loader as every other config (YAML, env
// templating, the schema with defaults, errors with file and line), and handed over as JSON in
// BAETYL_RUNTIME_CONFIG. The master's engines call this for the python images; tests do too.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loggerConfigWarnings } from '@baetyl/core/log/schema';
import { loadRuntimeConfig, type RuntimeConfig } from '../config/config.js';
import { RUNTIME_CONFIG_ENV } from '../config/passed.js';
import { findPython, type Interpreter } from './interpreter.js';

export type PythonKind = 'python27' | 'python36';

/** The env variable the Python runtime reads its checked config from (node85 and sql read it too). */
export { RUNTIME_CONFIG_ENV };

/** packages/runtime/python/run.py, from src/python (ts) or dist/src/python (js). */
export function pythonRuntimeScript(): string {
  for (const rel of ['../../python/run.py', '../../../python/run.py']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('the python runtime (packages/runtime/python/run.py) is missing from this installation');
}

/** What the Python side reads: the checked config, plus what only the launcher knows. */
export interface PythonRuntimeConfig extends RuntimeConfig {
  kind: PythonKind;
  interpreter?: { path: string; version: string; source: string };
  warnings: string[];
}

export interface PythonConfigOptions {
  kind: PythonKind;
  /** The service.yml, absolute or relative to the process's cwd (for messages as given). */
  configFile: string;
  /** The instance's environment (BAETYL_SERVICE_INSTANCE_ADDRESS and the like apply to the config). */
  env: NodeJS.ProcessEnv;
  /** The interpreter that will run it, when the launcher chose it (native mode). */
  interpreter?: Interpreter;
  /** Said in the runtime's own log at start (keys that do nothing in this mode, and such). */
  warnings?: string[];
}

/** Loads and checks service.yml; throws a ConfigError naming the file, line and key. */
export function pythonRuntimeConfig(opts: PythonConfigOptions): PythonRuntimeConfig {
  const warnings = [...(opts.warnings ?? [])];
  const cfg = loadRuntimeConfig(opts.configFile, opts.kind, opts.env, (m) => warnings.push(m));
  warnings.push(...loggerConfigWarnings(cfg.logger));
  return { ...cfg, kind: opts.kind, ...(opts.interpreter ? { interpreter: opts.interpreter } : {}), warnings };
}

export interface PythonLaunch {
  command: string;
  args: string[];
  /** Added to the instance's env. */
  env: Record<string, string>;
  interpreter: Interpreter;
}

// Probing interpreters costs a process each; one master starts many instances.
const found = new Map<string, { interp: Interpreter; warnings: string[] }>();

/** The interpreter for a kind and its runtime.python, found once per process (its warnings repeated to each caller). */
export function cachedPython(
  kind: PythonKind,
  configured: string | undefined,
  configFile: string,
  env: NodeJS.ProcessEnv,
  warn: (m: string) => void,
): Interpreter {
  const key = [
    kind,
    configured ?? '',
    env.BAETYL_PYTHON27 ?? '',
    env.BAETYL_PYTHON36 ?? '',
    env.BAETYL_PYTHON ?? '',
    env.PATH ?? '',
    env.PYENV_ROOT ?? '',
  ].join('\0');
  let entry = found.get(key);
  if (!entry) {
    const warnings: string[] = [];
    entry = { interp: findPython({ runtime: kind, configured, configFile, env, warn: (m) => warnings.push(m) }), warnings };
    found.set(key, entry);
  }
  for (const w of entry.warnings) warn(w);
  return entry.interp;
}

/**
 * The native launch of one instance: the interpreter, run.py, and the env with the checked
 * config. Throws with a message for the user (a bad config, no interpreter).
 */
export function pythonLaunch(kind: PythonKind, configFile: string, env: NodeJS.ProcessEnv): PythonLaunch {
  // The config first: runtime.python in it chooses the interpreter.
  const first = pythonRuntimeConfig({ kind, configFile, env });
  const warnings: string[] = [];
  const interpreter = cachedPython(kind, first.runtime.python, configFile, env, (m) => warnings.push(m));
  const cfg: PythonRuntimeConfig = {
    ...first,
    interpreter: { path: interpreter.path, version: interpreter.version, source: interpreter.source },
    warnings: [...first.warnings, ...warnings],
  };
  const extra: Record<string, string> = {
    [RUNTIME_CONFIG_ENV]: JSON.stringify(cfg),
    PYTHONIOENCODING: 'utf-8',
    // Do not litter the user's code folder (often read-only) with .pyc files.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  // CPython 2.7 never randomised hashes by default; v1's dict order (its published JSON) relies on it.
  if (interpreter.version.startsWith('2.')) extra.PYTHONHASHSEED = '0';
  return { command: interpreter.path, args: ['-u', pythonRuntimeScript()], env: extra, interpreter };
}
