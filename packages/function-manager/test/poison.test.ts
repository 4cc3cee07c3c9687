// No message wedges a rule: results are measured as the PUBLISH the hub would read, one that does
// not fit becomes the error payload (cut to fit), and an output the hub keeps closing the
// connection on is given up after retry.max instead of being sent again forever.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { AuthorizePublishHandler } from 'aedes';
import { fittingErrorPayload, plainFailure } from '../src/call/error-payload.js';
import { largestPayload, publishPacketSize } from '../src/publish/packet-size.js';
import { waitFor } from '@baetyl/test-support';
import { rulesSubscribed, startScenario, testClient } from './fixtures/harness.js';

type AuthorizePublish = Parameters<AuthorizePublishHandler>;

const encoded = (topic: string, payload: number, qos: 0 | 1) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(payload), qos, messageId: qos ? 1 : undefined, retain: false, dup: false }).length;

test('publishPacketSize counts what mqtt-packet writes, across every length-field size', () => {
  for (const topic of ['t', 't/py3hi', 'ü/ß']) {
    for (const qos of [0, 1] as const) {
      for (const n of [0, 1, 120, 127, 200, 16_370, 16_383, 16_400, 32_748, 2_097_140, 2_097_152]) {
        assert.equal(publishPacketSize(topic, n, qos), encoded(topic, n, qos), `${topic} qos ${qos} payload ${n}`);
      }
    }
  }
});

test('largestPayload is the largest payload whose PUBLISH fits', () => {
  for (const max of [64, 130, 16_386, 32_768, 4 * 1024 * 1024]) {
    for (const qos of [0, 1] as const) {
      const n = largestPayload('t/sqlfilter', qos, max);
      assert.ok(publishPacketSize('t/sqlfilter', n, qos) <= max, `fits under ${max}`);
      assert.ok(publishPacketSize('t/sqlfilter', n + 1, qos) > max, `one more byte does not fit under ${max}`);
    }
  }
});

test('fittingErrorPayload: in full, then without the input, then with errorMessage cut, then nothing', () => {
  const msg = { ID: 3, QOS: 1, Topic: 't', Payload: Buffer.alloc(3000, 'a'), Timestamp: 1, FunctionName: 'f', FunctionInvokeID: 'id' };
  const failure = plainFailure('result of 99999 bytes is over the limit of 32755 bytes (message.length.max)');
  const full = fittingErrorPayload(msg, failure, 10_000)!;
  assert.equal(full.trimmed, false);
  assert.equal(JSON.parse(full.payload.toString()).functionMessage.Payload, msg.Payload.toString('base64'));

  const bare = fittingErrorPayload(msg, failure, 1000)!;
  assert.equal(bare.trimmed, true);
  const e = JSON.parse(bare.payload.toString()) as { errorMessage: string; errorType: string; functionMessage: Record<string, unknown> };
  assert.equal(e.errorMessage, `${failure.message} (the input's payload of 3000 bytes is left out of functionMessage to fit)`);
  assert.equal(e.errorType, '*errors.errorString');
  assert.deepEqual(e.functionMessage, { ID: 3, QOS: 1, Topic: 't', Timestamp: 1, FunctionName: 'f', FunctionInvokeID: 'id' });

  const cut = fittingErrorPayload(msg, failure, 200)!;
  assert.ok(cut.payload.length <= 200, `${cut.payload.length} bytes`);
  assert.match((JSON.parse(cut.payload.toString()) as { errorMessage: string }).errorMessage, /^result of 999.*\.\.\.$/);

  assert.equal(fittingErrorPayload(msg, failure, 40), undefined);
});

test('a result over hub.message.length.max is published as the error payload, and the input is acknowledged', async () => {
  const s = await startScenario({
    services: ['function-f'],
    config: `
hub: {address: '{{HUB}}', message: {length: {max: 600}}}
rules:
  - clientid: rule-size
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
functions:
  - {name: f, service: function-f}
`,
  });
  try {
    const acks: number[] = [];
    const sizes: number[] = [];
    s.broker.aedes.on('ack', (_p, client) => {
      if (client?.id === 'rule-size') acks.push(Date.now());
    });
    s.broker.aedes.on('publish', (packet, client) => {
      if (client?.id === 'rule-size') sizes.push(publishPacketSize(packet.topic, Buffer.byteLength(packet.payload), packet.qos as 0 | 1));
    });
    await rulesSubscribed(s, 1);
    const sub = await testClient(s.broker.url, ['t/out'], 1);
    const pub = await testClient(s.broker.url);
    await pub.publish('t', '{"op":"big","n":1000}', { qos: 1 });
    await waitFor('the error payload', () => sub.received.length === 1, 30_000, s.logs);
    const e = JSON.parse(sub.received[0]!.payload.toString()) as { errorMessage: string; errorType: string; functionMessage: { Payload?: string } };
    assert.match(
      e.errorMessage,
      /^result of 1000 bytes is over the limit of 588 bytes \(message\.length\.max\): published on t\/out it would be a packet of 1012 bytes, 412 more than the hub's message\.length\.max of 600$/,
    );
    assert.equal(e.errorType, '*errors.errorString');
    assert.equal(Buffer.from(e.functionMessage.Payload!, 'base64').toString(), '{"op":"big","n":1000}', 'the small input is echoed in full');
    await waitFor('the input PUBACK', () => acks.length === 1, 30_000, s.logs);
    // A normal result still goes out as it is.
    await pub.publish('t', '{"op":"echo"}', { qos: 1 });
    await waitFor('the next result', () => sub.received.length === 2, 30_000, s.logs);
    assert.equal((JSON.parse(sub.received[1]!.payload.toString()) as { Say: string }).Say, 'Hello Baetyl');
    assert.ok(
      sizes.every((n) => n <= 600),
      `every packet fits: ${sizes.join(' ')}`,
    );
    assert.match(s.logs(), /its result cannot be published: result of \d+ bytes is over the limit/);
    await sub.client.endAsync();
    await pub.client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('an output the hub closes the connection on is given up after retry.max connections, and its input acknowledged', async () => {
  let refused = 0;
  const s = await startScenario({
    services: ['function-f'],
    broker: {
      // As the hub does with a topic the rule may not publish on: the connection is closed.
      authorizePublish: (...[client, packet, callback]: AuthorizePublish) => {
        if (client?.id === 'rule-deny' && packet.topic === 't/out') {
          refused++;
          callback(new Error('not authorized'));
        } else callback(null);
      },
    },
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-deny
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
    retry: {max: 2}
functions:
  - {name: f, service: function-f}
logger: {level: debug}
`,
  });
  try {
    let acks = 0;
    let connects = 0;
    s.broker.aedes.on('ack', (_p, client) => {
      if (client?.id === 'rule-deny') acks++;
    });
    s.broker.aedes.on('client', (client) => {
      if (client.id === 'rule-deny') connects++;
    });
    await rulesSubscribed(s, 1);
    const pub = await testClient(s.broker.url);
    await pub.publish('t', '{"op":"echo"}', { qos: 1 });
    await waitFor('the input to be acknowledged', () => acks === 1, 60_000, s.logs);
    assert.match(s.logs(), /lost 2 connections before the hub acknowledged it; it is given up/);
    const calls = s.runtimeEvents().filter((e) => e.ev === 'start').length;
    // Settled: no more reconnects, no more sends, no more calls.
    const seen = { connects, refused };
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual({ connects, refused }, seen);
    assert.equal(s.runtimeEvents().filter((e) => e.ev === 'start').length, calls);
    // The redelivered copies waited for the first one: the function ran once.
    assert.equal(calls, 1);
    await pub.client.endAsync();
  } finally {
    await s.cleanup();
  }
});

/**
 * A hub for one client whose every packet the test decides: it keeps the session (CONNACK
 * sessionPresent after the first connection) and lets `script` answer each packet.
 */
async function scriptedHub(script: (conn: number, p: Packet, send: (p: Packet) => void, socket: net.Socket) => void) {
  const received: Array<{ conn: number; p: Packet }> = [];
  let conns = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const conn = ++conns;
    sockets.add(socket);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (p: Packet) => {
      if (!socket.destroyed) socket.write(mqttPacket.generate(p));
    };
    parser.on('packet', (p: Packet) => {
      received.push({ conn, p });
      if (p.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, sessionPresent: conn > 1 });
      else if (p.cmd === 'subscribe') send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((x) => x.qos) });
      else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
      else script(conn, p, send, socket);
    });
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let current: ((p: Packet) => void) | undefined;
  server.on('connection', (socket) => {
    current = (p) => socket.write(mqttPacket.generate(p));
  });
  return {
    url: `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    received,
    conns: () => conns,
    /** Sends on the newest connection. */
    send: (p: Packet) => current!(p),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const INPUT = { cmd: 'publish', topic: 't', payload: Buffer.from('{"op":"echo","n":1}'), qos: 1, messageId: 7, dup: false, retain: false } as const;

for (const when of ['while its first copy is still waiting for the output PUBACK', 'after its output was acknowledged'] as const) {
  test(`an input redelivered on a new connection ${when} is acknowledged there, not run again`, async () => {
    const waiting = when.startsWith('while');
    const hub = await scriptedHub((conn, p, send, socket) => {
      if (p.cmd !== 'publish' || p.topic !== 't/out') return;
      // The first connection is lost before the output is acknowledged: MQTT.js sends the
      // output again on the next one, and the hub delivers the unacknowledged input again.
      if (conn === 1) socket.destroy();
      else if (waiting) {
        send({ ...INPUT, dup: true });
        setTimeout(() => send({ cmd: 'puback', messageId: p.messageId! }), 300);
      } else {
        send({ cmd: 'puback', messageId: p.messageId! });
        setTimeout(() => send({ ...INPUT, dup: true }), 300);
      }
    });
    const s = await startScenario({
      services: ['function-f'],
      config: `
hub: {address: '${hub.url}'}
rules:
  - clientid: rule-replay
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
functions:
  - {name: f, service: function-f}
logger: {level: debug}
`,
    });
    try {
      await waitFor('the subscription', () => hub.received.some((r) => r.p.cmd === 'subscribe'), 30_000, s.logs);
      hub.send(INPUT);
      await waitFor('the PUBACK of the input on the second connection', () => hub.received.some((r) => r.conn === 2 && r.p.cmd === 'puback'), 30_000, s.logs);
      // Time for a second call or a second output to show.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(s.runtimeEvents().filter((e) => e.ev === 'start').length, 1, 'the function ran once');
      const outputs = hub.received.filter((r) => r.p.cmd === 'publish' && (r.p as { topic: string }).topic === 't/out');
      assert.deepEqual(
        outputs.map((r) => r.conn),
        [1, 2],
        'the output was sent once, and once again by MQTT.js on the new connection',
      );
      assert.equal(new Set(outputs.map((r) => (r.p as { messageId: number }).messageId)).size, 1, 'as the same packet');
      const acks = hub.received.filter((r) => r.p.cmd === 'puback');
      assert.deepEqual(
        acks.map((r) => [r.conn, (r.p as { messageId: number }).messageId]),
        [[2, 7]],
      );
      assert.equal(hub.conns(), 2);
    } finally {
      await s.cleanup();
      await hub.close();
    }
  });
}

test("the hub's limit: hub.message.length.max, else the hub's service.yml found through the application (native), else 32k", async () => {
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { resolveHubLimit } = await import('../src/publish/hub-limit.js');
  const workdir = mkdtempSync(join(tmpdir(), 'fm-hub-limit-'));
  const cwd = join(workdir, 'var/run/baetyl/services/function-manager/function-manager');
  mkdirSync(cwd, { recursive: true });
  mkdirSync(join(workdir, 'var/db/baetyl/localhub-conf'), { recursive: true });
  writeFileSync(
    join(workdir, 'var/db/baetyl/application.yml'),
    `version: v0
services:
  - name: localhub
    image: hub.baidubce.com/baetyl/baetyl-hub:latest
    mounts:
      - {name: localhub-conf, path: etc/baetyl, readonly: true}
  - name: function-manager
    image: hub.baidubce.com/baetyl/baetyl-function-manager
volumes:
  - {name: localhub-conf, path: var/db/baetyl/localhub-conf}
`,
  );
  const hubYml = join(workdir, 'var/db/baetyl/localhub-conf/service.yml');
  writeFileSync(hubYml, 'listen: [tcp://0.0.0.0:1883]\nmessage:\n  length:\n    max: 64k\n');
  assert.deepEqual(resolveHubLimit(undefined, 'tcp://127.0.0.1:1883', cwd), { max: 65536, from: `the hub's ${hubYml}` });
  assert.deepEqual(resolveHubLimit(1000, 'tcp://127.0.0.1:1883', cwd), { max: 1000, from: 'hub.message.length.max' });
  writeFileSync(hubYml, 'listen: [tcp://0.0.0.0:1883]\n');
  assert.equal(resolveHubLimit(undefined, 'tcp://127.0.0.1:1883', cwd).max, 32768);
  // Not under a master's native workdir (docker, or run by hand): the hub's default.
  assert.match(resolveHubLimit(undefined, 'tcp://127.0.0.1:1883', tmpdir()).from, /^the hub's default \(32k/);
  writeFileSync(join(workdir, 'var/db/baetyl/application.yml'), 'services: [{{');
  assert.equal(resolveHubLimit(undefined, 'tcp://127.0.0.1:1883', cwd).max, 32768, 'an unreadable application is not an error here');
});
