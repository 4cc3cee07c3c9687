// deferAcks against a raw MQTT 3.1.1 server on a real socket: a QoS 1 message is acknowledged
// only when the service says so. (The MQTT.js version and internals: mqtt-internals.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { deferAcks, type Delivery } from '../src/mqtt/deferred-ack.js';

/** Reads whole MQTT packets (fixed header: type byte, remaining length) from a socket. */
function packets(sock: Socket): { next(): Promise<Buffer> } {
  let buf = Buffer.alloc(0);
  const waiting: Array<(b: Buffer) => void> = [];
  const ready: Buffer[] = [];
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < buf.length && i < 5; i++) {
        len += (buf[i]! & 0x7f) * mul;
        mul *= 128;
        if ((buf[i]! & 0x80) === 0) break;
      }
      if (i >= buf.length || buf.length < i + 1 + len) return;
      const p = buf.subarray(0, i + 1 + len);
      buf = buf.subarray(i + 1 + len);
      const w = waiting.shift();
      if (w) w(p);
      else ready.push(p);
    }
  });
  return { next: () => new Promise((ok) => (ready.length ? ok(ready.shift()!) : waiting.push(ok))) };
}

function publishQos1(topic: string, id: number, payload: string, dup = false): Buffer {
  const t = Buffer.from(topic);
  const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, Buffer.from([id >> 8, id & 0xff]), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([dup ? 0x3a : 0x32, body.length]), body]);
}

test('a QoS 1 message is acknowledged when the service acks it, not before; a redelivered copy in progress is not handed over twice', async () => {
  const server = createServer();
  const accepted = new Promise<Socket>((ok) => server.once('connection', ok));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId: 'deferred', clean: false, reconnectPeriod: 0, keepalive: 0 });
  const deliveries: Delivery[] = [];
  const duplicates: number[] = [];
  let delivered: () => void = () => undefined;
  deferAcks(
    client,
    (d, next) => {
      deliveries.push(d);
      next();
      delivered();
    },
    { onDuplicate: (p) => duplicates.push(p.messageId!) },
  );
  try {
    const sock = await accepted;
    const read = packets(sock);
    assert.equal((await read.next())[0]! >> 4, 1, 'CONNECT first');
    sock.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    const two = new Promise<void>((ok) => (delivered = () => deliveries.length === 2 && ok()));
    sock.write(Buffer.concat([publishQos1('t', 7, 'seven'), publishQos1('t', 8, 'eight')]));
    await two;
    assert.deepEqual(
      deliveries.map((d) => [d.packet.messageId, String(d.packet.payload)]),
      [
        [7, 'seven'],
        [8, 'eight'],
      ],
    );
    // The same id again while 7 is in progress: the handler does not see it.
    sock.write(publishQos1('t', 7, 'seven', true));
    // Acknowledged out of order: had MQTT.js sent its own PUBACKs, PUBACK 7 would come first.
    assert.equal(deliveries[1]!.ack(), true);
    assert.deepEqual([...(await read.next())], [0x40, 0x02, 0x00, 0x08]);
    assert.equal(deliveries[1]!.ack(), false, 'a delivery is acknowledged once');
    assert.deepEqual(duplicates, [7]);
    assert.equal(deliveries.length, 2);
    assert.equal(deliveries[0]!.ack(), true);
    assert.deepEqual([...(await read.next())], [0x40, 0x02, 0x00, 0x07]);
    // Settled: the same id may come again and is handed over.
    const third = new Promise<void>((ok) => (delivered = () => deliveries.length === 3 && ok()));
    sock.write(publishQos1('t', 7, 'again'));
    await third;
    assert.equal(String(deliveries[2]!.packet.payload), 'again');
    // Its connection closes before the service is done: nothing to acknowledge on.
    const closed = new Promise<void>((ok) => client.once('close', () => ok()));
    sock.destroy();
    await closed;
    assert.equal(deliveries[2]!.stale, true);
    assert.equal(deliveries[2]!.ack(), false);
  } finally {
    client.end(true);
    server.close();
  }
});
