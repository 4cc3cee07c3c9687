// The first worker thread of a node85 instance, started before the host has loaded its own
// modules. main.ts imports this module first, so the thread's Node environment boots on the other
// core while the host loads its logger, its config and the gRPC server: a cold start then waits for
// the slower of the two, not for both one after the other.
import type { Worker } from 'node:worker_threads';
import { nodeLaunch } from '../node/launch.js';
import { startThread, type ThreadLaunch } from './launch.js';

let early: { worker: Worker; launch: ThreadLaunch; exited: boolean } | undefined;

/** Called once, at start-up, with the runtime the host serves. */
export function prespawnFor(runtime: string): void {
  if (runtime !== 'node85') return;
  try {
    const launch = nodeLaunch(process.cwd(), process.env);
    const got = { worker: startThread(launch), launch, exited: false };
    got.worker.once('exit', () => (got.exited = true));
    // Until the pool adopts it, the thread must not keep a failing host alive.
    got.worker.unref();
    early = got;
  } catch {
    // The pool starts its worker the usual way and reports what is wrong.
  }
}

/**
 * The early thread, if it was started the way `launch` says and is still running; else undefined.
 * Given to the node85 pool as its `takeStarted` (runtime.ts), so the pool adopts it once.
 */
export function takePrespawned(launch: ThreadLaunch): Worker | undefined {
  const got = early;
  early = undefined;
  if (!got) return undefined;
  const same = got.launch.script === launch.script && got.launch.cwd === launch.cwd;
  if (same && !got.exited) {
    got.worker.ref();
    return got.worker;
  }
  void got.worker.terminate();
  return undefined;
}
