// Pipelining in the node85 worker pool: several calls sent to one worker before the first is
// answered must run in order, one at a time. (The python runtimes' own pipelining, deadlines and
// kills are in python-pipeline.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type FunctionMessage } from '@baetyl/core';
import { WorkerPool } from '../src/host/pool.js';
import { nodeLaunch } from '../src/node/launch.js';
import type { WorkerLaunch } from '../src/host/worker.js';
import { cleanup, serviceDir } from './helpers.js';

const JS = `let n = 0;
let running = 0;
let most = 0;
exports.handler = (event, ctx, cb) => {
  running++;
  most = Math.max(most, running);
  n++;
  const mine = n;
  // Asynchronous, so two calls could overlap if the worker started the next one early.
  setImmediate(() => {
    running--;
    cb(null, { i: event.i, n: mine, most, pid: process.pid });
  });
};
`;

function pool(launch: (dir: string) => WorkerLaunch, dir: string, runtime: string): WorkerPool {
  return new WorkerPool({
    runtime,
    functions: [{ name: 'f', handler: 'index.handler', codedir: 'code' }],
    launch: () => launch(dir),
    max: 1,
    idleMs: 60_000,
    maxFrame: 1 << 20,
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

const runtimes: Array<{ name: string; file: string; code: string; launch: (dir: string) => WorkerLaunch }> = [
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
