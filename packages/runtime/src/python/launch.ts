// How the host starts a Python worker: the one-file worker shipped in workers/python, run by the
// interpreter found for the runtime, unbuffered and with UTF-8 stdio so prints reach the log whole.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkerLaunch } from '../host/worker.js';
import type { Interpreter } from './interpreter.js';

/** packages/runtime/workers/python/worker.py, from src/python (ts) or dist/src/python (js). */
export function pythonWorkerScript(): string {
  for (const rel of ['../../../workers/python/worker.py', '../../workers/python/worker.py']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('the python worker (packages/runtime/workers/python/worker.py) is missing from this installation');
}

export function pythonLaunch(interp: Interpreter, cwd: string, env: NodeJS.ProcessEnv = process.env): WorkerLaunch {
  const workerEnv: NodeJS.ProcessEnv = {
    ...env,
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    // Do not litter the user's code folder (often read-only) with .pyc files.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  // CPython 2.7 never randomised hashes by default; v1's dict order (its published JSON) relies on it.
  if (interp.version.startsWith('2.')) workerEnv.PYTHONHASHSEED = '0';
  return { command: interp.path, args: ['-u', pythonWorkerScript()], env: workerEnv, cwd, label: `python ${interp.version}` };
}
