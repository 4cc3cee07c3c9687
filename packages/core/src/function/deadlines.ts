// Every layer that enforces a deadline on a function call, from the outside in, in one table. Each
// layer's code points back here; test/lint/deadlines.test.ts checks that every file named in the
// table exists and does. The texts of the answers are in errors.ts.
//
// Related, but about connections rather than calls: the rule's `hub.keepalive` must outlast the
// longest wait for room in a pool (docs/function-manager.md); the hub disconnects a client that
// reads nothing for `message.egress.drain.timeout`. At shutdown the manager gives accepted messages
// `drainGrace` (manager.ts), a runtime gives running calls 2 s (host/server.ts close), a node85
// worker thread gets 1 s to finish its call (host/thread.ts stop).

/** The least time a new instance gets to start answering, whatever the call timeout (ms). */
export const MIN_START_TIMEOUT = 30_000;

export interface DeadlineLayer {
  /** A short name, used in comments at the layer: "deadline layer: <name>". */
  name: string;
  /** The setting it comes from, and its default. */
  setting: string;
  /** The files that enforce it (from the repository root). */
  where: string[];
  /** What it bounds, and what happens when it passes. */
  does: string;
}

export const DEADLINE_LAYERS: readonly DeadlineLayer[] = [
  {
    name: 'manager server call',
    setting: "the function manager's server.timeout (2m)",
    where: ['packages/function-manager/src/server/function-server.ts'],
    does:
      "A call through the manager's own gRPC endpoint, all of it: waiting for room in the pool, a cold start, the one attempt. " +
      'Past it the caller gets DEADLINE_EXCEEDED "function (<name>) did not answer within server.timeout (<t>)"; the attempt still runs to its own deadline. ' +
      "A shorter deadline of the caller's is enforced by grpc-js.",
  },
  {
    name: 'function call',
    setting: 'functions[].timeout (30s)',
    where: ['packages/function-manager/src/call/attempts.ts', 'packages/function-manager/src/call/caller.ts'],
    does:
      'Each attempt of a message, from the call leaving until its answer. On the call stream one timer fails the expired calls ' +
      '(caller.ts); a unary Call carries it as its gRPC deadline, which grpc-js enforces. Either way the attempt fails with DEADLINE_EXCEEDED, ' +
      'worded "context deadline exceeded" as grpc-go did, and the next attempt (rules[].retry.max) goes on; a second timeout in a row ' +
      'replaces the instance (the health policy in attempts.ts).',
  },
  {
    name: 'instance start',
    setting: 'functions[].timeout, at least MIN_START_TIMEOUT (30s)',
    where: ['packages/function-manager/src/pool/pool.ts', 'packages/function-manager/src/pool/instance.ts'],
    does:
      "A new instance's gRPC channel must be ready within it (Baetyl's blocking dial). Past it the instance is stopped through the " +
      'master API and the attempt that waited for it fails with "instance (<name>) ... did not answer on <address> within <t>".',
  },
  {
    name: 'runtime receives',
    setting: "the caller's deadline: grpc-timeout on a unary Call, StreamCall.timeout on the call stream",
    where: ['packages/runtime/src/grpc/call.ts', 'packages/runtime/src/host/server.ts', 'packages/runtime/python/baetyl_runtime/grpc.py'],
    does: 'Turned into an epoch deadline when the call arrives; every layer below works from it.',
  },
  {
    name: 'runtime cap',
    setting: "the runtime's server.timeout (none)",
    where: ['packages/runtime/src/host/server.ts', 'packages/runtime/python/baetyl_runtime/server.py'],
    does: "Shortens every call's deadline to at most server.timeout from its arrival.",
  },
  {
    name: 'waiting for a worker',
    setting: 'the deadline above',
    where: ['packages/runtime/src/host/pool.ts', 'packages/runtime/python/baetyl_runtime/executor.py'],
    does:
      'A call still queued (in the pool, or behind a running call on a worker) when its deadline passes never runs: ' +
      'DEADLINE_EXCEEDED "Deadline Exceeded: no worker became free before the deadline".',
  },
  {
    name: 'handler kill',
    setting: 'the deadline above',
    where: ['packages/runtime/src/host/pool.ts', 'packages/runtime/python/baetyl_runtime/executor.py'],
    does:
      'A call still running at its deadline: its worker (a node85 thread, a python handler process) is killed, the only way to ' +
      'stop arbitrary user code, and another replaces it; DEADLINE_EXCEEDED "Deadline Exceeded: function "<name>" did not finish in ' +
      'time; its worker was replaced". The calls queued behind it run on another worker.',
  },
  {
    name: 'worker skips',
    setting: 'the deadline above, sent with each call to the worker',
    where: ['packages/runtime/src/node/worker.ts', 'packages/runtime/python/baetyl_runtime/handler_process.py'],
    does:
      "The worker's own check, for a call whose deadline passed while it waited in the worker's queue: it is answered expired " +
      'without running, and the pool answers it as "waiting for a worker" above.',
  },
];
