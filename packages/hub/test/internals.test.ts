// Pins each aedes internal the hub relies on (src/broker/internals.ts), one test per function
// there, mostly against a plain aedes broker (no hub hooks) with real MQTT clients on a loopback
// socket: a new aedes version fails here first, by name, instead of as lost or stalled messages
// elsewhere. The last tests check the hub's own use of them (its egress queue, QoS 0 drops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import type { MqttClient } from 'mqtt';
import { parseHubConfig } from '../src/config/load.js';
import { startHub } from '../src/broker/hub.js';
import {
  aedesVersion,
  beforeEachPacket,
  connectedClients,
  discardWill,
  isClientPublish,
  nextBrokerCounter,
  onBrokerError,
  passDuplicateFilter,
  pendingWill,
  replaceDeliver,
  replacePublish,
  subscriptionsOf,
  VERIFIED_AEDES_VERSION,
  type BrokerPublish,
  type Deliver,
} from '../src/broker/internals.js';
import { egressOf } from '../src/broker/hooks/delivery.js';
import {
  connect,
  connectPacket,
  endAll,
  rawConnect,
  rawSubscriber,
  readBytes,
  readUntilClosed,
  record,
  subscribe,
  subscribePacket,
  waitFor,
} from '@baetyl/test-support';

const CHECK = `check src/broker/internals.ts against aedes' lib/client.js, lib/handlers/ and aedes.js`;

/** A plain aedes broker on a loopback port; `onClient` runs right after aedes made each client. */
async function plainAedes(
  opts: AedesOptions = {},
  onClient: (c: Client) => void = () => undefined,
): Promise<{ url: string; broker: Aedes; close(): Promise<void> }> {
  const broker = await Aedes.createBroker(opts);
  const server: Server = createServer((sock) => onClient(broker.handle(sock)));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    broker,
    close: async () => {
      await endAll();
      await new Promise<void>((ok) => broker.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

const clientNamed = (broker: Aedes, id: string): Client | undefined => [...connectedClients(broker)].find((c) => c.id === id);

test(`aedes is ${VERIFIED_AEDES_VERSION} in the lockfile and installed: the version src/broker/internals.ts was checked against`, () => {
  const lock = readFileSync(fileURLToPath(new URL('../../../../pnpm-lock.yaml', import.meta.url)), 'utf8');
  const locked = /\n {2}packages\/hub:\n[\s\S]*?\n {6}aedes:\n {8}specifier: [^\n]*\n {8}version: ([0-9][^\s(]*)/.exec(lock)?.[1];
  assert.ok(locked, "pnpm-lock.yaml has the hub's aedes version");
  assert.equal(locked, VERIFIED_AEDES_VERSION, `the lockfile now has aedes ${locked}: ${CHECK}, run these tests, then update VERIFIED_AEDES_VERSION`);
  assert.equal(aedesVersion(), VERIFIED_AEDES_VERSION, `aedes ${aedesVersion()} is installed: ${CHECK}, then update VERIFIED_AEDES_VERSION`);
});

test('pendingWill: the will sent in CONNECT is on the client while authenticate runs', async () => {
  let seen: { topic: string } | null | undefined;
  const b = await plainAedes({
    authenticate: (client, _u, _p, cb) => {
      seen = pendingWill(client);
      cb(null, true);
    },
  });
  try {
    await connect(b.url, { clientId: 'w1', will: { topic: 'wills/w1', payload: Buffer.from('gone'), qos: 0, retain: false } });
    assert.equal(seen?.topic, 'wills/w1', `pendingWill() (client._will) no longer holds the CONNECT's will during authenticate: ${CHECK}`);
    await connect(b.url, { clientId: 'w2' });
    assert.equal(seen, null, 'no will: pendingWill() is null');
  } finally {
    await b.close();
  }
});

test('discardWill: a discarded will is not published when the connection drops; one kept is', async () => {
  const b = await plainAedes();
  try {
    const watcher = await connect(b.url, { clientId: 'watcher' });
    await subscribe(watcher, 'wills/#', 0);
    const drop = async (id: string, discard: boolean): Promise<void> => {
      const c = await connect(b.url, { clientId: id, will: { topic: `wills/${id}`, payload: Buffer.from(id), qos: 0, retain: false } });
      if (discard) assert.equal(discardWill(clientNamed(b.broker, id)!), true, 'the connected client had a will');
      const gone = new Promise<void>((ok) => b.broker.once('clientDisconnect', () => ok()));
      (c.stream as unknown as { destroy(): void }).destroy();
      await gone;
    };
    await drop('discarded', true);
    await drop('kept', false);
    await waitFor('the kept will', () => record(watcher).some((m) => m.topic === 'wills/kept'));
    assert.deepEqual(
      record(watcher).map((m) => m.topic),
      ['wills/kept'],
      `discardWill() (client.will = null) no longer stops aedes publishing the will: ${CHECK}`,
    );
  } finally {
    await b.close();
  }
});

test('subscriptionsOf and connectedClients: the granted subscriptions of each connected client', async () => {
  const b = await plainAedes();
  try {
    const c = await connect(b.url, { clientId: 'subs' });
    await subscribe(c, 'a/#', 1);
    await subscribe(c, 'b/+', 0);
    const client = clientNamed(b.broker, 'subs');
    assert.ok(client, `connectedClients() (broker.clients) does not list a connected client: ${CHECK}`);
    assert.deepEqual(
      Object.fromEntries(Object.entries(subscriptionsOf(client)).map(([f, s]) => [f, s.qos])),
      { 'a/#': 1, 'b/+': 0 },
      `subscriptionsOf() (client.subscriptions) is not filter -> { qos }: ${CHECK}`,
    );
    c.end(true);
    await waitFor('the client to leave broker.clients', () => !clientNamed(b.broker, 'subs'));
  } finally {
    await b.close();
  }
});

test("replaceDeliver and passDuplicateFilter: every delivery goes through the replacement, and aedes' duplicate filter lets a packet pass when told", async () => {
  let originals: { deliver0: Deliver; deliverQoS: Deliver } | undefined;
  const delivered: string[] = [];
  const b = await plainAedes({}, (client) =>
    replaceDeliver(client, (o) => {
      // The first client's ('dedupe').
      originals ??= o;
      return (packet, cb) => {
        delivered.push(packet.topic);
        o.deliver0(packet, cb);
      };
    }),
  );
  try {
    const c = await connect(b.url, { clientId: 'dedupe' });
    await subscribe(c, 'd/#', 1);
    await subscribe(c, 'z/#', 0);
    const pub = await connect(b.url, { clientId: 'pub' });
    await pub.publishAsync('d/1', 'x', { qos: 1 });
    await pub.publishAsync('z/1', 'x', { qos: 0 });
    await waitFor('both messages', () => record(c).length === 2);
    assert.deepEqual(delivered, ['d/1', 'z/1'], `replaceDeliver(): aedes did not call the replacement for a QoS 1 and a QoS 0 subscription: ${CHECK}`);
    assert.equal(typeof originals?.deliverQoS, 'function');
    // aedes' own filter: a brokerCounter not above the last one forwarded is dropped.
    const client = clientNamed(b.broker, 'dedupe')!;
    const send = (topic: string, counter: number) =>
      new Promise<void>((ok) =>
        originals!.deliver0(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from('p'),
            qos: 0,
            retain: false,
            dup: false,
            brokerId: 'other',
            brokerCounter: counter,
          } as AedesPublishPacket,
          ok,
        ),
      );
    await send('d/c10', 10);
    await send('d/c5', 5);
    const c7 = {
      cmd: 'publish',
      topic: 'd/c7',
      payload: Buffer.from('p'),
      qos: 0,
      retain: false,
      dup: false,
      brokerId: 'other',
      brokerCounter: 7,
    } as AedesPublishPacket;
    passDuplicateFilter(client, c7);
    await new Promise<void>((ok) => originals!.deliver0(c7, ok));
    await waitFor('d/c7', () => record(c).some((m) => m.topic === 'd/c7'));
    assert.deepEqual(
      record(c)
        .slice(2)
        .map((m) => m.topic),
      ['d/c10', 'd/c7'],
      `aedes' duplicate filter (client.duplicates) no longer drops counter 5 after 10, or passDuplicateFilter() no longer lets 7 through: ${CHECK}`,
    );
  } finally {
    await b.close();
  }
});

test('beforeEachPacket: a SUBSCRIBE is seen before aedes validates it; aedes closes the connection on an invalid filter', async () => {
  const authorized: string[] = [];
  const b = await plainAedes(
    {
      authorizeSubscribe: (_c, sub, cb) => {
        authorized.push(sub.topic);
        cb(null, sub);
      },
    },
    (client) =>
      beforeEachPacket(client, (packet) => {
        if (packet.cmd !== 'subscribe') return;
        for (const sub of packet.subscriptions ?? []) if (sub.topic === 'fix/#/me') sub.topic = 'fixed/0';
      }),
  );
  try {
    // Raw bytes: MQTT.js does not send an invalid filter.
    const subscribeRaw = async (id: string, filter: string) => {
      const s = await rawConnect(b.url.replace('mqtt:', 'tcp:'));
      s.write(connectPacket({ clientId: id }));
      assert.deepEqual([...(await readBytes(s, 4))], [0x20, 0x02, 0x00, 0x00]);
      s.write(subscribePacket(1, [filter]));
      return s;
    };
    const fixed = await subscribeRaw('fixed', 'fix/#/me');
    assert.deepEqual([...(await readBytes(fixed, 5))], [0x90, 0x03, 0x00, 0x01, 0x00], 'SUBACK granting QoS 0');
    fixed.destroy();
    assert.deepEqual(authorized, ['fixed/0'], `beforeEachPacket() (client._parser 'packet') did not run before aedes handled the SUBSCRIBE: ${CHECK}`);
    assert.equal((await readUntilClosed(await subscribeRaw('invalid', 'bad/#/x'))).length, 0, 'aedes closed the connection without SUBACK');
    assert.deepEqual(authorized, ['fixed/0'], 'aedes closed the connection before authorizeSubscribe (why the hub renames invalid filters first)');
  } finally {
    await b.close();
  }
});

test('replacePublish and isClientPublish: a QoS 1 PUBLISH reaches authorizePublish, is acknowledged, then reaches broker.publish as the same object; a will too', async () => {
  const authorized: PublishPacket[] = [];
  const calls: Array<{ packet: PublishPacket; client: Client | null; done: () => void }> = [];
  const b = await plainAedes({
    authorizePublish: (_c, packet, cb) => {
      authorized.push(packet);
      cb(null);
    },
  });
  try {
    replacePublish(b.broker, (original: BrokerPublish) => (packet, client, done) => {
      if (packet.topic.startsWith('$SYS')) return original(packet, client, done);
      calls.push({ packet, client, done: () => original(packet, client, done) });
    });
    const pub = await connect(b.url, { clientId: 'pub', will: { topic: 'will/pub', payload: Buffer.from('w'), qos: 1, retain: false } });
    // Resolves on the PUBACK: aedes acknowledged before its broker.publish went on.
    await pub.publishAsync('q/1', 'one', { qos: 1 });
    await waitFor('broker.publish', () => calls.length === 1);
    assert.equal(
      calls[0]!.packet,
      authorized[0],
      `broker.publish no longer gets the object authorizePublish got (hooks/publish-with-routes.ts relies on it): ${CHECK}`,
    );
    assert.equal(calls[0]!.client?.id, 'pub', 'broker.publish gets the publishing client');
    assert.equal(isClientPublish(authorized[0]!), true, "a client's PUBLISH has cmd 'publish'");
    calls[0]!.done();
    // The will, when the connection drops.
    (pub.stream as unknown as { destroy(): void }).destroy();
    await waitFor('the will', () => calls.length === 2);
    assert.equal(calls[1]!.packet.topic, 'will/pub');
    assert.equal(calls[1]!.packet, authorized[1], 'the will goes to authorizePublish, then broker.publish');
    assert.equal(isClientPublish(authorized[1]!), false, `a will reaches authorizePublish without cmd 'publish' (isClientPublish): ${CHECK}`);
    calls[1]!.done();
    // The two-argument form (the documented one) reaches the replacement with a null client.
    let published = false;
    b.broker.publish({ cmd: 'publish', topic: 'own/1', payload: Buffer.from('o'), qos: 0, retain: false, dup: false }, () => (published = true));
    await waitFor("the broker's own publish", () => calls.length === 3);
    assert.equal(calls[2]!.client, null);
    calls[2]!.done();
    await waitFor('its callback', () => published);
  } finally {
    await b.close();
  }
});

test("onBrokerError: aedes emits 'error' when the store fails to look up offline sessions for a QoS 1 message", async () => {
  const b = await plainAedes();
  try {
    const failure = new Error('store down');
    const persistence = (b.broker as unknown as { persistence: { subscriptionsByTopic: () => Promise<never> } }).persistence;
    persistence.subscriptionsByTopic = () => Promise.reject(failure);
    const seen = new Promise<Error>((ok) => onBrokerError(b.broker, ok));
    b.broker.publish({ cmd: 'publish', topic: 'e/1', payload: Buffer.from('x'), qos: 1, retain: false, dup: false }, () => undefined);
    assert.equal(await seen, failure, `aedes no longer emits the store's error on the broker: ${CHECK}`);
  } finally {
    await b.close();
  }
});

test("nextBrokerCounter: aedes numbers each message with ++broker.counter as publish starts (the hub's publish order enters it ahead)", async () => {
  const b = await plainAedes();
  try {
    let seen: number | undefined;
    // broker.subscribe (aedes' public API) hands over the numbered packet.
    await new Promise<void>((ok) =>
      b.broker.subscribe(
        'n/#',
        (packet, cb) => {
          seen = packet.brokerCounter;
          cb();
        },
        () => ok(),
      ),
    );
    const expected = nextBrokerCounter(b.broker);
    const done = new Promise<void>((ok, fail) =>
      b.broker.publish({ cmd: 'publish', topic: 'n/x', payload: Buffer.from('one'), qos: 1, retain: false, dup: false }, (err) => (err ? fail(err) : ok())),
    );
    assert.equal(nextBrokerCounter(b.broker), expected + 1, `the counter is no longer taken synchronously as publish starts: ${CHECK}`);
    await done;
    assert.equal(seen, expected, 'the message carries the counter nextBrokerCounter() announced');
  } finally {
    await b.close();
  }
});

async function inProcessHub(extra = '') {
  const config = parseHubConfig(
    `listen: [tcp://127.0.0.1:0]\nprincipals:\n  - {username: t, password: p, permissions: [{action: pub, permit: ["#"]}, {action: sub, permit: ["#"]}]}\nlogger: {level: error}\n${extra}`,
    'service.yml',
  );
  return startHub(config, { cwd: mkdtempSync(join(tmpdir(), 'hub-internals-')) });
}

test("the hub's deliveries go through its egress queue, and arrive", async () => {
  const hub = await inProcessHub();
  try {
    const sub = await rawSubscriber(hub.addresses[0]!, { clientId: 'pinned', filter: 'a/#', qos: 1, pace: 'fast', auth: { username: 't', password: 'p' } });
    const client = clientNamed(hub.broker, 'pinned');
    assert.ok(client);
    // aedes reads the client on (and it may subscribe) before its connect steps end with the
    // stored queue read: connected is set then.
    await waitFor('aedes to mark the client connected', () => client.connected === true);
    assert.equal(client.closed, false);
    assert.equal(client.clean, true);
    const pub: MqttClient = await connect(hub.addresses[0]!.replace('tcp:', 'mqtt:'), { username: 't', password: 'p' });
    for (let i = 0; i < 3; i++) await pub.publishAsync('a/b', Buffer.alloc(12, i), { qos: 1 });
    await waitFor('3 messages', () => sub.seqs.length === 3);
    assert.ok(egressOf(client), 'the client has an egress queue');
    sub.close();
    await waitFor('the client to close', () => client.closed);
  } finally {
    await endAll();
    await hub.close();
  }
});

test('QoS 0 messages beyond message.egress.qos0.buffer.size for a stalled client are dropped and counted', async () => {
  const hub = await inProcessHub('message: {egress: {qos0: {buffer: {size: 100}}, drain: {timeout: 60s}}}\n');
  try {
    const stalled = await rawSubscriber(hub.addresses[0]!, {
      clientId: 'stalled',
      filter: 'q/#',
      qos: 0,
      pace: 'stalled',
      auth: { username: 't', password: 'p' },
    });
    const pub = await connect(hub.addresses[0]!.replace('tcp:', 'mqtt:'), { username: 't', password: 'p' });
    const body = Buffer.alloc(1024, 1);
    // 12 MB: more than the socket buffers take, then more than 100 waiting.
    for (let i = 0; i < 12_000; i++) {
      pub.publish('q/x', body, { qos: 0 });
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await pub.publishAsync('q/end', body, { qos: 1 });
    await waitFor('dropped messages', () => hub.stats().messages_dropped > 0);
    const client = clientNamed(hub.broker, 'stalled')!;
    assert.ok(egressOf(client)!.waiting.messages <= 100, `at most 100 waiting, not ${egressOf(client)!.waiting.messages}`);
    assert.ok(hub.stats().messages_dropped > 1000);
    stalled.close();
  } finally {
    await endAll();
    await hub.close();
  }
});
