// Pins each MQTT.js internal in src/mqtt/internals.ts, and the version, against the lockfile and
// a raw MQTT 3.1.1 server on a real socket. (SKIP_PUBACK and writePuback: deferred-ack.test.ts,
// which sees the service's PUBACKs arrive in its order, not MQTT.js'.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient, type Packet } from 'mqtt';
import {
  awaitsAcknowledgement,
  connectionOf,
  pendingPublishCallback,
  reconnectDelayOf,
  setReconnectDelay,
  VERIFIED_MQTT_VERSION,
} from '../src/mqtt/internals.js';
import { backoffReconnects } from '../src/mqtt/reconnect.js';
import { FIRST_RECONNECT_DELAY } from '../src/mqtt/client-info.js';

const CHECK = "check src/mqtt/internals.ts against MQTT.js' build/lib/client.js and handlers/publish.js";
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** A raw server: `onConnection` gets each socket (the CONNECT arrives on it first). */
async function rawServer(onConnection: (sock: Socket, n: number) => void): Promise<{ server: Server; url: string }> {
  let n = 0;
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    onConnection(sock, ++n);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Answers the CONNECT with CONNACK 0. */
const accept = (sock: Socket) => sock.once('data', () => sock.write(CONNACK));

const client = (url: string, reconnectPeriod: number): MqttClient => mqtt.connect(url, { protocolVersion: 4, clientId: 'pin', reconnectPeriod, keepalive: 0 });

test(`MQTT.js is ${VERIFIED_MQTT_VERSION} in the lockfile and installed: the version src/mqtt/internals.ts was checked against`, () => {
  const lock = readFileSync(fileURLToPath(new URL('../../../../pnpm-lock.yaml', import.meta.url)), 'utf8');
  const locked = /\n {2}packages\/core:\n[\s\S]*?\n {6}mqtt:\n {8}specifier: [^\n]*\n {8}version: ([0-9][^\s(]*)/.exec(lock)?.[1];
  assert.equal(locked, VERIFIED_MQTT_VERSION, `the lockfile now has MQTT.js ${locked}: ${CHECK}, run these tests, then update VERIFIED_MQTT_VERSION`);
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('mqtt'));
  while (!/[/\\]mqtt$/.test(dir)) dir = dirname(dir);
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version, VERIFIED_MQTT_VERSION, `MQTT.js ${version} is installed: ${CHECK}, then update VERIFIED_MQTT_VERSION`);
});

test('connectionOf: the socket the client is connected on, a new one after a reconnect', async () => {
  const ports: Array<number | undefined> = [];
  const { server, url } = await rawServer((sock, n) => {
    ports.push(sock.remotePort);
    if (n === 1) sock.once('data', () => sock.write(CONNACK, () => sock.destroy()));
    else accept(sock);
  });
  const c = client(url, 20);
  try {
    const seen: Array<{ port: number | undefined }> = [];
    await new Promise<void>((ok) =>
      c.on('connect', () => {
        seen.push({ port: (connectionOf(c) as Socket).localPort });
        if (seen.length === 2) ok();
      }),
    );
    assert.deepEqual(
      seen.map((s) => s.port),
      ports,
      `connectionOf() (client.stream) is not the connection of each CONNACK: ${CHECK}`,
    );
  } finally {
    c.end(true);
    server.close();
  }
});

test('setReconnectDelay: MQTT.js waits the new delay before its next attempt', async () => {
  // Every connection is closed at once: MQTT.js tries again every reconnectPeriod.
  const { server, url } = await rawServer((sock) => sock.destroy());
  const c = client(url, 20);
  let attempts = 0;
  c.on('error', () => undefined);
  try {
    await new Promise<void>((ok) =>
      c.on('reconnect', () => {
        if (++attempts === 3) {
          setReconnectDelay(c, 600_000);
          ok();
        }
      }),
    );
    assert.equal(reconnectDelayOf(c), 600_000);
    // At 20 ms between attempts, a second would have seen dozens more.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(attempts, 3, `MQTT.js no longer reads options.reconnectPeriod when it schedules an attempt: ${CHECK}`);
  } finally {
    c.end(true);
    server.close();
  }
});

test('backoffReconnects: the wait doubles after each attempt, up to the most, and starts over once connected', async () => {
  // Two connections closed at once, then accepted.
  const { server, url } = await rawServer((sock, n) => (n <= 2 ? sock.destroy() : accept(sock)));
  const c = client(url, 0);
  c.on('error', () => undefined);
  try {
    const backoff = backoffReconnects(c, 2 * FIRST_RECONNECT_DELAY);
    const delays: number[] = [];
    c.on('reconnect', () => delays.push(backoff.delay));
    await new Promise<void>((ok) => c.on('connect', () => ok()));
    assert.deepEqual(delays, [2 * FIRST_RECONNECT_DELAY, 2 * FIRST_RECONNECT_DELAY], 'doubled, then held at the most');
    assert.equal(backoff.delay, FIRST_RECONNECT_DELAY);
  } finally {
    c.end(true);
    server.close();
  }
});

test('pendingPublishCallback and awaitsAcknowledgement: the callback of the QoS 1 publish sent under a packet id, until its PUBACK', async () => {
  let serverSock: Socket | undefined;
  const { server, url } = await rawServer((sock) => {
    serverSock = sock;
    accept(sock);
  });
  const c = client(url, 0);
  try {
    await new Promise<void>((ok) => c.once('connect', () => ok()));
    assert.equal(awaitsAcknowledgement(c), false);
    let acked = false;
    const cb = () => (acked = true);
    const sent = new Promise<number>((ok) => c.on('packetsend', (p: Packet) => p.cmd === 'publish' && ok(p.messageId!)));
    c.publish('t', 'x', { qos: 1 }, cb);
    const id = await sent;
    assert.equal(pendingPublishCallback(c, id), cb, `pendingPublishCallback() (client.outgoing[id].cb) is not publish()'s callback: ${CHECK}`);
    assert.equal(awaitsAcknowledgement(c), true, `awaitsAcknowledgement() (client.outgoing) does not see the publish: ${CHECK}`);
    serverSock!.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
    await new Promise<void>((ok) => c.once('packetreceive', () => setImmediate(ok)));
    assert.equal(acked, true);
    assert.equal(pendingPublishCallback(c, id), undefined);
    assert.equal(awaitsAcknowledgement(c), false);
  } finally {
    c.end(true);
    server.close();
  }
});
