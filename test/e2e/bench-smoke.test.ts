// A small run of the benchmark scenarios that checks correctness only: every message arrives
// once, with the right payload. No speed is asserted (speed belongs to `make bench`).
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binaryCodec, runLoad } from '../bench/load/run.js';
import {
  HUB_USER,
  cpuBetween,
  cpuMsOf,
  cpuSnapshot,
  footprintOf,
  groupOf,
  instanceProcesses,
  startHub,
  startPlainAedes,
  stackProcesses,
  treeOf,
} from '../bench/support/procs.js';
import { PIPELINES, coldStart, pipelineLoad, pipelineStack } from '../bench/scenarios/functions.js';
import { waitFor } from '@baetyl/test-support';

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

test('process accounting: an instance is its process group and its subtree, whatever it is made of', async () => {
  // A group leader with a child in its tree, and a grandchild that left the tree (its parent
  // subshell exits, so it is reparented) but stays in the group.
  const leader = spawn('/bin/sh', ['-c', '(sleep 60 &); sleep 60 & wait'], { detached: true, stdio: 'ignore' });
  const pid = leader.pid!;
  try {
    await waitFor('the leader, its child and the reparented grandchild', () => groupOf(pid).length === 3 && treeOf(pid).length === 2, 120_000);
    const group = groupOf(pid);
    assert.deepEqual(new Set(instanceProcesses(pid)), new Set(group));
    // Seen from a parent (as the master is): its tree and the instance's group.
    const stack = stackProcesses(process.pid, [pid]);
    for (const q of group) assert.ok(stack.includes(q), `process ${q} of the instance is in the stack`);
    const m = footprintOf(group);
    assert.equal(m.processes, 3);
    assert.ok(m.rss > 0 && m.pss > 0 && m.pss <= m.rss, 'PSS is a share of RSS');
  } finally {
    process.kill(-pid, 'SIGKILL');
  }
});

test('CPU accounting: a process started between two snapshots counts from zero, and a reaped child in its parent', async () => {
  const before = new Map([
    ['1@5', 100],
    ['2@7', 50],
  ]);
  const after = new Map([
    ['1@5', 150],
    ['3@9', 30],
  ]);
  assert.equal(cpuBetween(before, after), 80);
  // The inner shell burns some CPU and ends; the outer one waits for it, then sleeps.
  const outer = spawn('/bin/sh', ['-c', `sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; echo done; sleep 60`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    await new Promise((r) => outer.stdout!.once('data', r));
    assert.ok(cpuMsOf(outer.pid!, true) > cpuMsOf(outer.pid!), "the reaped child's CPU is counted with reaped");
    const snap = cpuSnapshot([outer.pid!, outer.pid!], true);
    assert.equal(snap.size, 1);
    assert.ok(cpuBetween(new Map(), snap) > 0);
  } finally {
    // The whole group: the sleep would otherwise keep the pipe, and this test, open.
    process.kill(-outer.pid!, 'SIGKILL');
  }
});

test('python36 and sql pipelines: every input gives its right output; a cold start answers', async () => {
  for (const p of [PIPELINES[0]!, PIPELINES[2]!]) {
    const stack = await pipelineStack(p, 0, { min: 0, max: 2, idletime: '1s', evicttime: '200ms' });
    try {
      // With no instance: the master and its services are the stack.
      const idle = await stack.processes();
      for (const q of [stack.proc.pid!, ...(await stack.pidOf('localhub')), ...(await stack.pidOf('function-manager'))])
        assert.ok(idle.includes(q), `process ${q} is in the idle stack`);
      assert.equal(footprintOf(idle).processes, idle.length);
      const cpuBefore = cpuSnapshot(idle, true);
      const res = await pipelineLoad(stack, p, 0, { warmupMs: 0, measureMs: 60_000, window: 5, maxMessages: 100 });
      assert.equal(res.sent, 100);
      // The instances the load started are in the stack, and their CPU counts in its total.
      const insts = await stack.pidOf(p.service);
      assert.ok(insts.length >= 1, `${p.fn}: an instance runs`);
      const busy = await stack.processes();
      for (const q of insts.flatMap(instanceProcesses)) assert.ok(busy.includes(q), `instance process ${q} is in the stack`);
      const started = cpuSnapshot(insts.flatMap(instanceProcesses), true);
      assert.ok(cpuBetween(cpuBefore, started) > 0, 'the new instances count from zero');
      // The codec rejects an output that is not the function's answer to its input (wrong).
      assert.deepEqual({ lost: res.lost, duplicates: res.duplicates, wrong: res.wrong }, { lost: 0, duplicates: 0, wrong: 0 }, p.fn);
      await waitFor(`${p.fn} to scale to zero`, async () => (await stack.pidOf(p.service)).length === 0, 120_000);
      const t = await coldStart(stack, p, 1_000_000);
      assert.ok(Number.isFinite(t), `${p.fn}: the cold start produced its output`);
    } finally {
      await stack.stop();
    }
  }
});
