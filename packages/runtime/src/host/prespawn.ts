// The first worker of a node85 instance, started before the host has loaded its own modules.
// main.ts imports this module first, so the worker's Node boots on the other core while the host
// loads winston, ajv, grpc and its config: a cold start then waits for the slower of the two, not
// for both one after the other. (A Python worker needs the config to pick its interpreter, so
// python27/python36 start theirs after loading it, as before.)
import type { ChildProcess } from 'node:child_process';
import { nodeLaunch } from '../node/launch.js';
import { spawnWorker, type WorkerLaunch } from './worker.js';

let early: { child: ChildProcess; launch: WorkerLaunch } | undefined;

function runtimeArg(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runtime' || a === '-r') return argv[i + 1];
    if (a.startsWith('--runtime=')) return a.slice('--runtime='.length);
  }
  return undefined;
}

/** Called once, at start-up, with the host's own arguments. */
export function prespawnFor(argv: string[]): void {
  if (runtimeArg(argv) !== 'node85') return;
  try {
    const launch = nodeLaunch(process.cwd(), process.env);
    early = { child: spawnWorker(launch), launch };
  } catch {
    // The pool starts its worker the usual way and reports what is wrong.
  }
}

/** The early worker, if it was started the way `launch` says and is still alive; else undefined. */
export function takePrespawned(launch: WorkerLaunch): ChildProcess | undefined {
  const got = early;
  early = undefined;
  if (!got) return undefined;
  const same =
    got.launch.command === launch.command &&
    got.launch.cwd === launch.cwd &&
    got.launch.args.join('\0') === launch.args.join('\0');
  const alive = got.child.pid !== undefined && got.child.exitCode === null && got.child.signalCode === null;
  if (same && alive) return got.child;
  got.child.kill('SIGKILL');
  return undefined;
}
