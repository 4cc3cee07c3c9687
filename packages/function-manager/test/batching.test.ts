// How the pool spreads calls, through the real manager and real node85 runtime instances, which
// report how long each call ran (StreamResult.us): a fast function's calls are batched on at most
// as many instances as the host has cores; a slow function still scales out to instance.max.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@baetyl/test-support';
import { createLogger } from '@baetyl/core/log';
import { Batching } from '../src/pool/batching.js';
import { rulesSubscribed, startScenario, testClient, type Scenario } from './fixtures/harness.js';

const RUNTIME_MAIN = fileURLToPath(new URL('../../../runtime/dist/src/main.js', import.meta.url));

// Each answer names the instance that ran it.
const CODE = `
const inst = process.env.BAETYL_SERVICE_INSTANCE_NAME;
exports.fast = (event, context, cb) => cb(null, { i: event.i, inst });
exports.slow = (event, context, cb) => setTimeout(() => cb(null, { i: event.i, inst }), 300);
`;

async function scenario(fn: 'fast' | 'slow', max: number): Promise<{ s: Scenario; runtimeDir: string }> {
  const runtimeDir = mkdtempSync(join(tmpdir(), 'fm-batching-rt-'));
  mkdirSync(join(runtimeDir, 'etc/baetyl'), { recursive: true });
  mkdirSync(join(runtimeDir, 'code'));
  writeFileSync(join(runtimeDir, 'etc/baetyl/service.yml'), `functions:\n  - name: ${fn}\n    handler: index.${fn}\n    codedir: code\n`);
  writeFileSync(join(runtimeDir, 'code/index.js'), CODE);
  const s = await startScenario({
    services: [`function-${fn}`],
    instance: { script: RUNTIME_MAIN, args: ['--runtime', 'node85'], cwd: runtimeDir },
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-${fn}
    subscribe: {topic: t, qos: 1}
    function: {name: ${fn}}
    publish: {topic: t/out, qos: 1}
functions:
  - name: ${fn}
    service: function-${fn}
    instance: {max: ${max}, idletime: 10m}
logger: {level: debug}
`,
  });
  return { s, runtimeDir };
}

async function burst(s: Scenario, publish: (t: string, p: string, o: { qos: 1 }) => Promise<void>, from: number, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, k) => publish('t', JSON.stringify({ i: from + k }), { qos: 1 })));
}

test('a fast function: a burst of 600 calls is batched on at most one instance per core (plus one started before the first answer), and a second burst starts none', async () => {
  const cores = Math.max(1, availableParallelism());
  const max = cores + 4;
  const { s, runtimeDir } = await scenario('fast', max);
  const detail = () => `${s.logs()}\n${s.master.output()}`;
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await burst(s, publish, 0, 600);
    await waitFor('600 results', () => received.length >= 600, 60_000, detail);
    const first = s.master.starts().length;
    assert.ok(first >= 1 && first <= cores + 1, `the first burst started ${first} instances (cores: ${cores}, max: ${max})\n${detail()}`);

    // Measured fast now: the next burst goes to the instances there are, and starts no more.
    await burst(s, publish, 600, 600);
    await waitFor('1200 results', () => received.length >= 1200, 60_000, detail);
    assert.equal(
      s.master.starts().length,
      first,
      `no instance started for the second burst\n${s
        .logs()
        .split('\n')
        .filter((l) => /batched|fast|started/.test(l))
        .join('\n')}`,
    );
    const seen = new Set(received.map((r) => (JSON.parse(r.payload.toString()) as { i: number }).i));
    assert.equal(seen.size, 1200, 'every message got its own result');
    const users = new Set(received.slice(600).map((r) => (JSON.parse(r.payload.toString()) as { inst: string }).inst));
    assert.ok(users.size <= cores, `the second burst ran on ${users.size} instances: ${[...users].join(', ')}`);
    await client.endAsync();
  } finally {
    await s.cleanup();
    rmSync(runtimeDir, { recursive: true, force: true });
  }
});

test('a slow function (300 ms a call): a burst still scales out to instance.max once the first answer says it is slow', async () => {
  const max = Math.max(1, availableParallelism()) + 3;
  const { s, runtimeDir } = await scenario('slow', max);
  const detail = () => `${s.logs()}\n${s.master.output()}`;
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    const n = max * 8;
    await burst(s, publish, 0, n);
    await waitFor(`${n} results`, () => received.length >= n, 120_000, detail);
    assert.equal(
      s.master.starts().length,
      max,
      `started: ${s.master
        .starts()
        .map((e) => e.instance)
        .join(', ')}`,
    );
    const users = new Set(received.map((r) => (JSON.parse(r.payload.toString()) as { inst: string }).inst));
    // More than a batch would use (which instance ran what depends on when each became ready).
    assert.ok(users.size > Math.max(1, availableParallelism()), `the calls ran on ${users.size} instances`);
    await client.endAsync();
  } finally {
    await s.cleanup();
    rmSync(runtimeDir, { recursive: true, force: true });
  }
});

test("a batch's depth: 32 calls an instance when instance.concurrency is not set, fewer where they would wait over a quarter of the deadline, never under 8; a set concurrency is the depth", () => {
  const log = createLogger({ level: 'error' }, {}, { stderr: false });
  const batching = (timeout: number, fixedDepth?: number) =>
    new Batching({ functionName: 'f', concurrency: 8, max: 10, log, timeout, ...(fixedDepth !== undefined ? { fixedDepth } : {}) });
  const measured = (b: Batching, us: number) => {
    for (let i = 0; i < 3; i++) b.noteAnswer(us);
    return b;
  };
  assert.equal(batching(30_000).depth(), 8, 'not measured yet: the unbatched depth');
  assert.equal(measured(batching(30_000), 300).depth(), 32);
  // 40 ms deadline, 1 ms a call: 10 calls take a quarter of it.
  assert.equal(measured(batching(40), 1000).depth(), 10);
  assert.equal(measured(batching(10), 1000).depth(), 8, 'never under the unbatched depth');
  assert.equal(measured(batching(30_000, 4), 300).depth(), 4);
  assert.equal(measured(batching(30_000, 100), 300).depth(), 100);
});
