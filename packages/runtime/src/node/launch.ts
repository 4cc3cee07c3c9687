// How the host starts a Node worker: a thread of this process running dist/src/node/worker.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ThreadLaunch } from '../host/launch.js';

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
