// Pipelining in the node85 worker pool: several calls sent to one worker thread before the first
// is answered must run in order, one at a time, and a call killed at its deadline must not take
// the calls queued behind it down with it: those never started, and run on the replacement
// thread. (The python runtimes' own pipelining, deadlines and kills are in python-pipeline.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { createLogger, type FunctionMessage } from '@baetyl/core';
import { WorkerPool } from '../src/host/pool.js';
import { nodeLaunch } from '../src/node/launch.js';
import type { ThreadLaunch } from '../src/host/thread.js';
import { cleanup, serviceDir } from './helpers.js';

// A node85 worker is a thread of the instance: its thread id names it (all threads share the pid).
const JS = `const { threadId } = require('worker_threads');
let n = 0;
let running = 0;
let most = 0;
exports.handler = (event, ctx, cb) => {
  running++;
  most = Math.max(most, running);
  n++;
  const mine = n;
  // Asynchronous, so two calls could overlap if the worker started the next one early.
  const done = () => {
    running--;
    cb(null, { i: event.i, n: mine, most, pid: threadId });
  };
  if (event.sleep) setTimeout(done, event.sleep * 1000);
  else setImmediate(done);
};
`;

function pool(launch: (dir: string) => ThreadLaunch, dir: string, runtime: string): WorkerPool {
  return new WorkerPool({
    runtime,
    functions: [{ name: 'f', handler: 'index.handler', codedir: 'code' }],
    launch: () => launch(dir),
    max: 1,
    idleMs: 60_000,
    notFoundDetails: 'function not found',
    logger: createLogger({ level: 'error' }, {}, { stderr: false }),
  });
}

function msg(event: Record<string, unknown>): FunctionMessage {
  return { ID: 0, QOS: 0, Topic: 't', Payload: Buffer.from(JSON.stringify(event)), Timestamp: 0, FunctionName: 'f', FunctionInvokeID: 'x' };
}

type Out = { i: number; n: number; pid: number; most?: number };

function parse(r: Awaited<ReturnType<WorkerPool['call']>>): Out {
  assert.equal(r.ok, true, r.ok ? '' : r.details);
  return JSON.parse((r as { payload: Buffer }).payload.toString()) as Out;
}

const runtimes: Array<{ name: string; file: string; code: string; launch: (dir: string) => ThreadLaunch }> = [
  { name: 'node85', file: 'index.js', code: JS, launch: (dir) => nodeLaunch(dir) },
];

for (const rt of runtimes) {
  test(`${rt.name}: calls pipelined to one worker run one at a time, in the order sent`, async () => {
    const dir = serviceDir({ [`code/${rt.file}`]: rt.code });
    const p = pool(rt.launch, dir, rt.name);
    try {
      await p.start();
      // A few calls first, so the pool knows the function is fast (it pipelines only then).
      for (let i = 0; i < 3; i++) parse(await p.call(msg({ i: -1 }), Date.now() + 30_000));
      const outs = (await Promise.all(Array.from({ length: 40 }, (_, i) => p.call(msg({ i }), Date.now() + 30_000)))).map(parse);
      assert.deepEqual(
        outs.map((o) => o.i),
        Array.from({ length: 40 }, (_, i) => i),
      );
      // Run in the order sent: the worker's call counter follows the send order.
      assert.deepEqual(
        outs.map((o) => o.n),
        Array.from({ length: 40 }, (_, i) => i + 4),
      );
      assert.equal(new Set(outs.map((o) => o.pid)).size, 1);
      if (rt.name === 'node85') assert.equal(Math.max(...outs.map((o) => o.most ?? 0)), 1, 'two calls overlapped in one worker');
    } finally {
      await p.close();
      cleanup(dir);
    }
  });
}

for (const rt of runtimes) {
  test(`${rt.name}: a call killed at its deadline does not fail the calls queued behind it; they run on a fresh worker`, async () => {
    const dir = serviceDir({ [`code/${rt.file}`]: rt.code });
    const p = pool(rt.launch, dir, rt.name);
    try {
      await p.start();
      const first = parse(await p.call(msg({ i: -1 }), Date.now() + 30_000));
      for (let i = 0; i < 2; i++) parse(await p.call(msg({ i: -1 }), Date.now() + 30_000));
      const [hung, ...behind] = await Promise.all([
        p.call(msg({ i: 0, sleep: 30 }), Date.now() + 600),
        p.call(msg({ i: 1 }), Date.now() + 30_000),
        p.call(msg({ i: 2 }), Date.now() + 30_000),
      ]);
      assert.equal(hung!.ok, false);
      assert.equal(hung!.ok ? 0 : hung!.code, status.DEADLINE_EXCEEDED);
      assert.match(hung!.ok ? '' : hung!.details, /did not finish in time; its worker was replaced/);
      const outs = behind.map(parse);
      assert.deepEqual(
        outs.map((o) => o.i),
        [1, 2],
      );
      // The fresh worker ran them, in order, as its first calls.
      assert.notEqual(outs[0]!.pid, first.pid);
      assert.deepEqual(
        outs.map((o) => [o.pid, o.n]),
        [
          [outs[0]!.pid, 1],
          [outs[0]!.pid, 2],
        ],
      );
    } finally {
      await p.close();
      cleanup(dir);
    }
  });

  test(`${rt.name}: a call whose deadline passes while queued behind a slow call is answered at once, and skipped`, async () => {
    const dir = serviceDir({ [`code/${rt.file}`]: rt.code });
    const p = pool(rt.launch, dir, rt.name);
    try {
      await p.start();
      for (let i = 0; i < 3; i++) parse(await p.call(msg({ i: -1 }), Date.now() + 30_000));
      const started = Date.now();
      const slow = p.call(msg({ i: 0, sleep: 1.5 }), Date.now() + 30_000);
      const queued = await p.call(msg({ i: 1 }), Date.now() + 300);
      assert.ok(Date.now() - started < 1400, 'the queued call waited for the slow one');
      assert.equal(queued.ok ? 0 : queued.code, status.DEADLINE_EXCEEDED);
      const after = parse(await slow);
      // The worker skipped the expired call: the next call it runs is its fifth.
      const next = parse(await p.call(msg({ i: 2 }), Date.now() + 30_000));
      assert.equal(next.pid, after.pid);
      assert.equal(next.n, after.n + 1);
    } finally {
      await p.close();
      cleanup(dir);
    }
  });
}
