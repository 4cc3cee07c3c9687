// How a worker thread is started, whatever its language: which script, in which working
// directory, with what environment. A language fills in a ThreadLaunch (node/launch.ts); the pool
// starts threads from it, or adopts one the start-up path began earlier (host/prespawn.ts).
import { Worker } from 'node:worker_threads';

export interface ThreadLaunch {
  thread: true;
  /** The worker's module (node/worker.js). */
  script: string;
  /** Where codedirs are resolved (threads share the process's cwd, which may differ). */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** For messages: "node v20.20.2". */
  label: string;
}

/** Starts a worker thread; it waits for its ThreadInit message (host/thread.ts). */
export function startThread(launch: ThreadLaunch): Worker {
  return new Worker(launch.script, { env: launch.env, stdout: true, stderr: true });
}
