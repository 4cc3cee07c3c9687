// How the host starts a Node worker: a thread of this process running dist/src/node/worker.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadLaunch } from '../host/thread.js';

/** dist/src/node/worker.js, from dist/src/node (tsc's output) or dist/bundle (the host's bundle). */
export function nodeWorkerScript(): string {
  for (const rel of ['./worker.js', '../src/node/worker.js']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('the node worker (packages/runtime/dist/src/node/worker.js) is missing: run "make build"');
}

export function nodeLaunch(cwd: string, env: NodeJS.ProcessEnv = process.env): ThreadLaunch {
  return { thread: true, script: nodeWorkerScript(), env: { ...env }, cwd, label: `node ${process.version}` };
}

/** Starts a worker thread; it waits for its ThreadInit message (host/thread.ts). */
export function startThread(launch: ThreadLaunch): Worker {
  return new Worker(launch.script, { env: launch.env, stdout: true, stderr: true });
}
