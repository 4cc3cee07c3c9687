// Messages through the real manager process: a test broker as the hub, a test master starting the
// test runtime as instances. Results, QoS, error payloads, filters and end-to-end acks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthorizePublishHandler } from 'aedes';
import { waitFor } from '@baetyl/test-support';
import { rulesSubscribed, startScenario, testClient } from './fixtures/harness.js';
import { startRawHub } from './fixtures/raw-hub.js';

type AuthorizePublish = Parameters<AuthorizePublishHandler>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("tutorial flow: publish on t, results on each rule's topic with QoS = min(publish.qos, input QoS)", async () => {
  const s = await startScenario({
    services: ['function-echo'],
    config: `
hub:
  address: {{HUB}}
  username: test
  password: hahaha
rules:
  - clientid: func-echo-q0
    subscribe: {topic: t}
    function: {name: echo}
    publish: {topic: t/echo0}
  - clientid: func-echo-q1
    subscribe: {topic: t, qos: 1}
    function: {name: echo}
    publish: {topic: t/echo1, qos: 1}
functions:
  - name: echo
    service: function-echo
    instance: {max: 2}
logger: {level: debug}
`,
  });
  try {
    await rulesSubscribed(s, 2);
    // Scaled from zero: nothing runs before the first message.
    assert.equal(s.master.starts().length, 0);
    const { client, received, publish } = await testClient(s.broker.url, ['t/#'], 1);
    await publish('t', '{"id":1}', { qos: 0 });
    await waitFor('two results', () => received.filter((r) => r.topic.startsWith('t/echo')).length === 2, 30_000, s.logs);
    for (const topic of ['t/echo0', 't/echo1']) {
      const r = received.find((m) => m.topic === topic)!;
      assert.equal(r.qos, 0, `${topic} must be QoS 0 (input was QoS 0)`);
      assert.equal(r.retain, false);
      const out = JSON.parse(r.payload.toString()) as Record<string, unknown>;
      assert.equal(out.id, 1);
      assert.equal(out.messageQOS, 0);
      assert.equal(out.messageTopic, 't');
      assert.equal(out.messageID, 0);
      assert.equal(out.functionName, 'echo');
      assert.match(String(out.functionInvokeID), UUID);
      assert.ok(Math.abs(Number(out.messageTimestamp) - Date.now() / 1000) < 120, 'Timestamp is unix seconds');
      assert.equal(out.Say, 'Hello Baetyl');
    }
    // The instances were started through the API with the native-mode address triple.
    const start = s.master.starts()[0]!;
    assert.match(start.instance, /^function-echo\.echo\.[12]$/);
    const addr = start.env!.BAETYL_SERVICE_INSTANCE_ADDRESS!;
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(start.env, { BAETYL_SERVICE_INSTANCE_ADDRESS: addr, OPENEDGE_SERVICE_INSTANCE_ADDRESS: addr, OPENEDGE_SERVICE_ADDRESS: addr });

    received.length = 0;
    await publish('t', '{"id":2}', { qos: 1 });
    await waitFor('two results', () => received.filter((r) => r.topic.startsWith('t/echo')).length === 2, 30_000, s.logs);
    assert.equal(received.find((m) => m.topic === 't/echo0')!.qos, 0, 'publish.qos 0 caps the output');
    const q1 = received.find((m) => m.topic === 't/echo1')!;
    assert.equal(q1.qos, 1);
    const out = JSON.parse(q1.payload.toString()) as Record<string, unknown>;
    assert.equal(out.messageQOS, 1);
    assert.ok(Number(out.messageID) > 0, 'ID is the packet id for QoS 1');
    // Non-JSON payloads pass through as bytes.
    received.length = 0;
    await publish('t', 'hi', { qos: 0 });
    await waitFor('raw result', () => received.find((r) => r.topic === 't/echo0'));
    assert.equal((JSON.parse(received.find((r) => r.topic === 't/echo0')!.payload.toString()) as { bytes: string }).bytes, 'hi');
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('a failing function: retry.max attempts with one invoke id, then the exact error payload; the instance is kept', async () => {
  const s = await startScenario({
    services: ['function-f'],
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-err
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
  - clientid: rule-err-once
    subscribe: {topic: u}
    function: {name: f}
    publish: {topic: u/out}
    retry: {max: 1}
functions:
  - name: f
    service: function-f
`,
  });
  try {
    await rulesSubscribed(s, 2);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out', 'u/out'], 1);
    const input = '{"op":"error","msg":"boom <&>"}';
    await publish('t', input, { qos: 1 });
    const r = await waitFor('the error payload', () => received.find((m) => m.topic === 't/out'), 30_000, s.logs);
    assert.equal(r.qos, 1);
    const text = r.payload.toString();
    const fm = (JSON.parse(text) as { functionMessage: { ID: number; Timestamp: number; FunctionInvokeID: string } }).functionMessage;
    assert.ok(fm.ID > 0);
    assert.match(fm.FunctionInvokeID, UUID);
    assert.equal(
      text,
      '{"errorMessage":"rpc error: code = Unknown desc = Exception calling application: boom \\u003c\\u0026\\u003e","errorType":"*status.statusError",' +
        `"functionMessage":{"ID":${fm.ID},"QOS":1,"Topic":"t","Payload":"${Buffer.from(input).toString('base64')}","Timestamp":${fm.Timestamp},` +
        `"FunctionName":"f","FunctionInvokeID":"${fm.FunctionInvokeID}"}}`,
    );
    const attempts = s.runtimeEvents().filter((e) => e.ev === 'start' && e.op === 'error');
    assert.equal(attempts.length, 3, 'retry.max defaults to 3 attempts');
    assert.ok(
      attempts.every((e) => e.invokeId === fm.FunctionInvokeID),
      'the same invoke id on every attempt',
    );
    // A user's exception does not cost an instance: all attempts ran on the one instance, never stopped.
    assert.deepEqual([...new Set(attempts.map((e) => e.inst))], ['function-f.f.1']);
    assert.equal(s.master.stops().length, 0);

    // retry.max: 1 means a single attempt; a QoS 0 input omits ID and QOS in the payload.
    await publish('u', '{"op":"error","msg":"once"}', { qos: 0 });
    const once = await waitFor('the second error payload', () => received.find((m) => m.topic === 'u/out'), 30_000, s.logs);
    const onceFm = (JSON.parse(once.payload.toString()) as { functionMessage: Record<string, unknown> }).functionMessage;
    assert.deepEqual(Object.keys(onceFm), ['Topic', 'Payload', 'Timestamp', 'FunctionName', 'FunctionInvokeID']);
    assert.equal(s.runtimeEvents().filter((e) => e.ev === 'start' && e.op === 'error').length, 4);

    // The same healthy instance serves the next message.
    await publish('t', '{"op":"echo","n":7}', { qos: 1 });
    const ok = await waitFor('an echo', () => received.find((m) => m.topic === 't/out' && m.payload.includes('"n":7')), 30_000, s.logs);
    assert.equal((JSON.parse(ok.payload.toString()) as { instance: string }).instance, 'function-f.f.1');
    assert.equal(s.master.starts().length, 1);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('an empty result publishes nothing and still acknowledges the QoS 1 input', async () => {
  const s = await startScenario({
    services: ['function-f'],
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-filter
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
functions:
  - {name: f, service: function-f}
`,
  });
  try {
    const acked: string[] = [];
    s.broker.aedes.on('ack', (packet, client) => {
      if (client?.id === 'rule-filter' && packet && 'payload' in packet) acked.push(String(packet.payload));
    });
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"empty"}', { qos: 1 });
    // The manager's PUBACK for the filtered message reaches the hub.
    await waitFor('the PUBACK of the filtered input', () => acked.includes('{"op":"empty"}'), 30_000, s.logs);
    assert.equal(s.runtimeEvents().filter((e) => e.ev === 'end' && e.op === 'empty').length, 1);
    await publish('t', '{"op":"echo","mark":"after"}', { qos: 1 });
    await waitFor('the echo', () => received.length >= 1, 30_000, s.logs);
    assert.equal(received.length, 1, 'nothing was published for the empty result');
    assert.match(received[0]!.payload.toString(), /"mark":"after"/);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('QoS 1 end to end: the manager acknowledges the input only after the hub acknowledged the output', async () => {
  const held: Array<() => void> = [];
  const s = await startScenario({
    services: ['function-f'],
    broker: {
      // The hub does not take (nor PUBACK) the manager's output until the test lets it.
      authorizePublish: (...[, packet, callback]: AuthorizePublish) => {
        if (packet.topic === 't/out') held.push(() => callback(null));
        else callback(null);
      },
    },
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-e2e
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
functions:
  - {name: f, service: function-f}
`,
  });
  try {
    // The PUBACKs the manager's rule sends to the hub for its inputs.
    const inputAcks: string[] = [];
    s.broker.aedes.on('ack', (packet, client) => {
      if (client?.id === 'rule-e2e' && packet && 'topic' in packet) inputAcks.push(String(packet.topic));
    });
    await rulesSubscribed(s, 1);
    const sub = await testClient(s.broker.url, ['t/out'], 1);
    const pub = await testClient(s.broker.url);
    await pub.publish('t', '{"op":"echo","id":1}', { qos: 1 });
    await waitFor('the output to reach the hub', () => held.length === 1, 30_000, s.logs);
    // The function has answered and the output is at the hub, not yet acknowledged: the input is not either.
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(inputAcks, [], 'the input must not be acknowledged before the output is');
    assert.equal(sub.received.length, 0);
    held.shift()!();
    await waitFor('the input PUBACK', () => inputAcks.length === 1, 30_000, s.logs);
    assert.deepEqual(inputAcks, ['t']);
    await waitFor('the output at the subscriber', () => sub.received.length === 1);
    assert.equal(sub.received[0]!.qos, 1);

    // With nothing held, a stream of QoS 1 inputs is acknowledged one for one.
    s.broker.aedes.removeAllListeners('ack');
    let acks = 0;
    s.broker.aedes.on('ack', (_packet, client) => {
      if (client?.id === 'rule-e2e') acks++;
    });
    const heldRelease = setInterval(() => held.splice(0).forEach((release) => release()), 20);
    try {
      for (let i = 0; i < 10; i++) await pub.publish('t', `{"op":"echo","i":${i}}`, { qos: 1 });
      await waitFor('10 input PUBACKs', () => acks === 10, 30_000, s.logs);
      await waitFor('10 more outputs', () => sub.received.length === 11);
    } finally {
      clearInterval(heldRelease);
    }
    await sub.client.endAsync();
    await pub.client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('a QoS 1 message sent again (DUP) while it is being handled runs once and is acknowledged once, after its result', async () => {
  const hub = await startRawHub();
  const s = await startScenario({
    services: ['function-f'],
    config: `
hub: {address: '${hub.url}'}
rules:
  - clientid: rule-raw
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out}
functions:
  - {name: f, service: function-f}
`,
  });
  try {
    await waitFor('the subscription', () => hub.received.some((p) => p.cmd === 'subscribe'), 30_000, s.logs);
    const payload = Buffer.from('{"op":"sleep","ms":800}');
    hub.send({ cmd: 'publish', topic: 't', payload, qos: 1, messageId: 7, dup: false, retain: false });
    await waitFor('the call', () => s.runtimeEvents().some((e) => e.ev === 'start'), 30_000, s.logs);
    hub.send({ cmd: 'publish', topic: 't', payload, qos: 1, messageId: 7, dup: true, retain: false });
    const ackAt = await waitFor(
      'the PUBACK',
      () => {
        const i = hub.received.findIndex((p) => p.cmd === 'puback');
        return i >= 0 ? i + 1 : undefined;
      },
      30_000,
      s.logs,
    );
    // The result (QoS 0 here) went out before the input was acknowledged.
    const outAt = hub.received.findIndex((p) => p.cmd === 'publish' && p.topic === 't/out') + 1;
    assert.ok(outAt > 0 && outAt < ackAt, 'the output precedes the PUBACK');
    // A later message proves the rule went on; by then a second PUBACK for 7 would have been sent.
    hub.send({ cmd: 'publish', topic: 't', payload: Buffer.from('{"op":"echo"}'), qos: 1, messageId: 8, dup: false, retain: false });
    await waitFor('the PUBACK of 8', () => hub.received.some((p) => p.cmd === 'puback' && p.messageId === 8), 30_000, s.logs);
    const acks = hub.received.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId);
    assert.deepEqual(acks, [7, 8]);
    assert.equal(s.runtimeEvents().filter((e) => e.ev === 'start' && e.op === 'sleep').length, 1, 'the copy was not run');
    assert.equal(hub.received.filter((p) => p.cmd === 'publish' && p.topic === 't/out').length, 2);
  } finally {
    await s.cleanup();
    await hub.close();
  }
});
