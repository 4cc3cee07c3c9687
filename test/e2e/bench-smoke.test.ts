// A small run of the benchmark scenarios that checks correctness only: every message arrives
// once, with the right payload. No speed is asserted (speed belongs to `make bench`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryCodec, runLoad } from '../bench/load/run.js';
import { HUB_USER, startHub, startPlainAedes, waitFor } from '../bench/support/procs.js';
import { PIPELINES, coldStart, pipelineLoad, pipelineStack } from '../bench/scenarios/functions.js';

test('hub and plain aedes: QoS 0 and 1, one to one and fan-out, nothing lost or duplicated', async () => {
  for (const [name, start, auth] of [
    ['our hub', startHub, HUB_USER],
    ['plain aedes', startPlainAedes, {}],
  ] as const) {
    const broker = await start();
    try {
      for (const shape of [
        { publishers: 1, subscribers: 1, qos: 0 as const },
        { publishers: 1, subscribers: 1, qos: 1 as const },
        { publishers: 5, subscribers: 5, qos: 1 as const },
      ]) {
        const res = await runLoad({
          port: broker.port,
          ...auth,
          ...shape,
          pubTopic: 'bench/in',
          subTopic: 'bench/in',
          subQos: shape.qos,
          codec: binaryCodec(64),
          window: 50,
          warmupMs: 0,
          measureMs: 60_000,
          maxMessages: 500,
          drainMs: 60_000,
          clientPrefix: 'smoke',
        });
        const what = `${name}, ${shape.publishers} -> ${shape.subscribers}, QoS ${shape.qos}`;
        assert.equal(res.sent, 500, what);
        assert.deepEqual({ lost: res.lost, duplicates: res.duplicates, wrong: res.wrong }, { lost: 0, duplicates: 0, wrong: 0 }, what);
      }
    } finally {
      await broker.stop();
    }
  }
});

test('python36 and sql pipelines: every input gives its right output; a cold start answers', async () => {
  for (const p of [PIPELINES[0]!, PIPELINES[2]!]) {
    const stack = await pipelineStack(p, 0, { min: 0, max: 2, idletime: '1s', evicttime: '200ms' });
    try {
      const res = await pipelineLoad(stack, p, 0, { warmupMs: 0, measureMs: 60_000, window: 5, maxMessages: 100 });
      assert.equal(res.sent, 100);
      // The codec rejects an output that is not the function's answer to its input (wrong).
      assert.deepEqual({ lost: res.lost, duplicates: res.duplicates, wrong: res.wrong }, { lost: 0, duplicates: 0, wrong: 0 }, p.fn);
      await waitFor(async () => (await stack.pidOf(p.service)).length === 0, `${p.fn} to scale to zero`);
      const t = await coldStart(stack, p, 1_000_000);
      assert.ok(Number.isFinite(t), `${p.fn}: the cold start produced its output`);
    } finally {
      await stack.stop();
    }
  }
});
