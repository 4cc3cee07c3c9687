// How the host starts a Node worker: this same Node binary running dist/src/node/worker.js.
import { fileURLToPath } from 'node:url';
import type { WorkerLaunch } from '../host/worker.js';

export function nodeWorkerScript(): string {
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}

export function nodeLaunch(cwd: string, env: NodeJS.ProcessEnv = process.env): WorkerLaunch {
  return { command: process.execPath, args: [nodeWorkerScript()], env: { ...env }, cwd, label: `node ${process.version}` };
}
