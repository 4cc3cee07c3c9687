// The instance pool through the real manager process: scaling from 0 to max and back, min kept
// warm, and back-pressure when a function is saturated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@baetyl/test-support';
import { maxConcurrentCalls, rulesSubscribed, startScenario, testClient, type Scenario } from './fixtures/harness.js';

const detail = (s: Scenario) => () => `${s.logs()}\n${s.master.output()}`;

test('scales from 0 up to max under load, never beyond, and back to 0 after idletime (stopped through the API)', async () => {
  const s = await startScenario({
    services: ['function-slow'],
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-scale
    subscribe: {topic: t}
    function: {name: slow}
    publish: {topic: t/out}
functions:
  - name: slow
    service: function-slow
    # One call per instance, as Baetyl: max bounds the calls in flight.
    instance: {max: 3, idletime: 1s, evicttime: 200ms, concurrency: 1}
`,
  });
  try {
    await rulesSubscribed(s, 1);
    assert.equal(s.master.starts().length, 0, 'nothing starts before a message needs it');
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    for (let i = 0; i < 12; i++) await publish('t', JSON.stringify({ op: 'sleep', ms: 400, i }), { qos: 0 });
    await waitFor('12 results', () => received.length === 12, 60_000, detail(s));
    const seen = new Set(received.map((r) => (JSON.parse(r.payload.toString()) as { i: number }).i));
    assert.equal(seen.size, 12, 'every message got its own result');

    const names = s.master.starts().map((e) => e.instance);
    assert.equal(names.length, 3, `started ${names.join(', ')}`);
    assert.deepEqual([...new Set(names)].sort(), ['function-slow.slow.1', 'function-slow.slow.2', 'function-slow.slow.3']);
    const concurrent = maxConcurrentCalls(s.runtimeEvents());
    assert.ok(concurrent <= 3, `at most max calls at once, saw ${concurrent}`);
    assert.ok(concurrent >= 2, `the load was spread over several instances, saw ${concurrent}`);

    // Idle for more than idletime: every instance is stopped through the master API.
    await waitFor('all instances stopped', () => s.master.stops().length === 3 && s.master.running().length === 0, 30_000, detail(s));
    assert.deepEqual(
      s.master
        .stops()
        .map((e) => e.instance)
        .sort(),
      ['function-slow.slow.1', 'function-slow.slow.2', 'function-slow.slow.3'],
    );

    // And it scales from 0 again, with a recycled id.
    await publish('t', '{"op":"echo","again":true}', { qos: 0 });
    await waitFor('a result after scaling from 0 again', () => received.length === 13, 30_000, detail(s));
    assert.equal(s.master.starts().length, 4);
    assert.match(s.master.starts()[3]!.instance, /^function-slow\.slow\.[123]$/);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('min instances are warm from the start and are not evicted when idle', async () => {
  const s = await startScenario({
    services: ['function-warm'],
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-warm
    subscribe: {topic: t}
    function: {name: warm}
    publish: {topic: t/out}
functions:
  - name: warm
    service: function-warm
    instance: {min: 2, max: 3, idletime: 500ms, evicttime: 100ms}
`,
  });
  try {
    // Before any message (Baetyl waited for the first evictor tick).
    await waitFor('2 warm instances', () => s.runtimeEvents().filter((e) => e.ev === 'up').length === 2, 30_000, detail(s));
    assert.deepEqual(
      s.master
        .starts()
        .map((e) => e.instance)
        .sort(),
      ['function-warm.warm.1', 'function-warm.warm.2'],
    );
    // Many evictor ticks and idle periods later, they are still there (Baetyl evicted and re-created them).
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(s.master.stops().length, 0);
    assert.equal(s.master.running().length, 2);

    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"echo"}', { qos: 0 });
    await waitFor('a result', () => received.length === 1, 30_000, detail(s));
    assert.match((JSON.parse(received[0]!.payload.toString()) as { instance: string }).instance, /^function-warm\.warm\.[12]$/);
    assert.equal(s.master.starts().length, 2, 'a warm instance served it');
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('back-pressure: max 1 and a slow function, a burst of QoS 1 messages is never more than 1 call at once and none is lost', async () => {
  const s = await startScenario({
    services: ['function-slow'],
    config: `
# 100 KB messages: the test broker takes them, so the rule is told its limit is higher than a hub's 32k.
hub: {address: '{{HUB}}', message: {length: {max: 1m}}}
rules:
  - clientid: rule-bp
    subscribe: {topic: t, qos: 1}
    function: {name: slow}
    publish: {topic: t/out, qos: 1}
functions:
  - name: slow
    service: function-slow
    instance: {max: 1, concurrency: 1}
`,
  });
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    // 150 messages of 100 KB: far more than socket buffers hold, so where they wait is visible.
    const n = 150;
    const pad = 'x'.repeat(100_000);
    await Promise.all(Array.from({ length: n }, (_, i) => publish('t', JSON.stringify({ op: 'sleep', ms: 20, i, pad }), { qos: 1 })));
    // While the function works through them, the hub holds what the rule has not read: the
    // manager stops reading its connection instead of queueing the burst in its own memory.
    let heldAtHub = 0;
    const watch = setInterval(() => {
      for (const c of Object.values((s.broker.aedes as unknown as { clients: Record<string, { id: string; conn: { writableLength: number } }> }).clients)) {
        if (c.id === 'rule-bp') heldAtHub = Math.max(heldAtHub, c.conn.writableLength);
      }
    }, 20);
    try {
      await waitFor(`${n} results`, () => received.length === n, 180_000, detail(s));
    } finally {
      clearInterval(watch);
    }
    assert.ok(heldAtHub > 2 * 1024 * 1024, `the hub held ${heldAtHub} bytes for the rule at most`);
    const ids = received.map((r) => (JSON.parse(r.payload.toString()) as { i: number }).i).sort((a, b) => a - b);
    assert.deepEqual(
      ids,
      Array.from({ length: n }, (_, i) => i),
      'each message exactly once',
    );
    assert.equal(maxConcurrentCalls(s.runtimeEvents()), 1);
    assert.equal(s.master.starts().length, 1);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('rules sharing a function share its max: two busy rules never get more than max calls at once', async () => {
  const s = await startScenario({
    services: ['function-slow'],
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-a
    subscribe: {topic: a, qos: 1}
    function: {name: slow}
    publish: {topic: out/a, qos: 1}
  - clientid: rule-b
    subscribe: {topic: b}
    function: {name: slow}
    publish: {topic: out/b}
functions:
  - name: slow
    service: function-slow
    instance: {max: 2, concurrency: 1}
`,
  });
  try {
    await rulesSubscribed(s, 2);
    const { client, received, publish } = await testClient(s.broker.url, ['out/#'], 1);
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 10; i++) {
      sends.push(publish('a', JSON.stringify({ op: 'sleep', ms: 150, i }), { qos: 1 }));
      sends.push(publish('b', JSON.stringify({ op: 'sleep', ms: 150, i }), { qos: 0 }));
    }
    await Promise.all(sends);
    await waitFor('20 results', () => received.length === 20, 120_000, detail(s));
    assert.equal(received.filter((r) => r.topic === 'out/a').length, 10);
    assert.equal(received.filter((r) => r.topic === 'out/b').length, 10);
    const concurrent = maxConcurrentCalls(s.runtimeEvents());
    assert.ok(concurrent <= 2, `at most max calls at once over both rules, saw ${concurrent}`);
    assert.ok(s.master.starts().length <= 2);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});
