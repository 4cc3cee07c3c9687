// The hub reaches into aedes' per-client objects (src/broker/internals.ts) and replaces its
// deliver functions (src/egress/delivery.ts). This pins what that relies on: a new aedes version
// fails here first, loudly, instead of as lost or stalled messages elsewhere. It also checks that
// QoS 0 messages a stalled client cannot take are dropped and counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'aedes';
import { parseHubConfig } from '../src/config/load.js';
import { startHub } from '../src/broker/hub.js';
import { aedesVersion, internals, nextBrokerCounter } from '../src/broker/internals.js';
import { egressOf } from '../src/egress/delivery.js';
import { connect, endAll, rawSubscriber, waitFor } from '@baetyl/test-support';

const AEDES_VERSION = '1.2.0';

async function inProcessHub(extra = '') {
  const config = parseHubConfig(
    `listen: [tcp://127.0.0.1:0]\nprincipals:\n  - {username: t, password: p, permissions: [{action: pub, permit: ["#"]}, {action: sub, permit: ["#"]}]}\nlogger: {level: error}\n${extra}`,
    'service.yml',
  );
  return startHub(config, { cwd: mkdtempSync(join(tmpdir(), 'hub-internals-')) });
}

test(`aedes is ${AEDES_VERSION}, whose client internals the hub relies on`, async () => {
  const hub = await inProcessHub();
  try {
    assert.equal(aedesVersion(), AEDES_VERSION, `aedes ${aedesVersion()}: check src/broker/internals.ts and src/egress/delivery.ts against its lib/client.js, then update this pin`);
    const sub = await rawSubscriber(hub.addresses[0]!, { clientId: 'pinned', filter: 'a/#', qos: 1, pace: 'fast', auth: { username: 't', password: 'p' } });
    const client = (hub.broker as unknown as { clients: Record<string, Client> }).clients['pinned'];
    assert.ok(client, 'aedes keeps connected clients in broker.clients by id');
    const c = internals(client);
    for (const fn of ['deliver0', 'deliverQoS'] as const) assert.equal(typeof c[fn], 'function', `client.${fn}`);
    assert.equal(typeof c._parser.on, 'function', 'client._parser is an EventEmitter');
    assert.equal(typeof c.duplicates, 'object', 'client.duplicates');
    assert.deepEqual(Object.keys(c.subscriptions), ['a/#']);
    assert.equal(c.subscriptions['a/#']!.qos, 1);
    assert.equal(c.connected, true);
    assert.equal(c.closed, false);
    assert.equal(c.clean, true);
    // Deliveries go through the hub's queue (made on the first one), and arrive.
    const pub = await connect(hub.addresses[0]!.replace('tcp:', 'mqtt:'), { username: 't', password: 'p' });
    for (let i = 0; i < 3; i++) await pub.publishAsync('a/b', Buffer.alloc(12, i), { qos: 1 });
    await waitFor('3 messages', () => sub.seqs.length === 3);
    assert.ok(egressOf(client), 'the client has an egress queue');
    sub.close();
    await waitFor('the client to close', () => c.closed);
  } finally {
    await endAll();
    await hub.close();
  }
});

test('QoS 0 messages beyond message.egress.qos0.buffer.size for a stalled client are dropped and counted', async () => {
  const hub = await inProcessHub('message: {egress: {qos0: {buffer: {size: 100}}, drain: {timeout: 60s}}}\n');
  try {
    const stalled = await rawSubscriber(hub.addresses[0]!, { clientId: 'stalled', filter: 'q/#', qos: 0, pace: 'stalled', auth: { username: 't', password: 'p' } });
    const pub = await connect(hub.addresses[0]!.replace('tcp:', 'mqtt:'), { username: 't', password: 'p' });
    const body = Buffer.alloc(1024, 1);
    // 12 MB: more than the socket buffers take, then more than 100 waiting.
    for (let i = 0; i < 12_000; i++) {
      pub.publish('q/x', body, { qos: 0 });
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await pub.publishAsync('q/end', body, { qos: 1 });
    await waitFor('dropped messages', () => hub.stats().messages_dropped > 0);
    const client = (hub.broker as unknown as { clients: Record<string, Client> }).clients['stalled']!;
    assert.ok(egressOf(client)!.waiting.messages <= 100, `at most 100 waiting, not ${egressOf(client)!.waiting.messages}`);
    assert.ok(hub.stats().messages_dropped > 1000);
    stalled.close();
  } finally {
    await endAll();
    await hub.close();
  }
});

test("aedes numbers each message with ++broker.counter, which the hub's publish order enters ahead (src/persistence/publish-order.ts)", async () => {
  const hub = await inProcessHub();
  try {
    let seen: number | undefined;
    // broker.subscribe (aedes' public API) hands over the numbered packet.
    await new Promise<void>((ok) =>
      hub.broker.subscribe(
        'n/#',
        (packet, cb) => {
          seen = (packet as { brokerCounter?: number }).brokerCounter;
          cb();
        },
        () => ok(),
      ),
    );
    const expected = nextBrokerCounter(hub.broker);
    const done = new Promise<void>((ok, fail) => hub.broker.publish({ cmd: 'publish', topic: 'n/x', payload: Buffer.from('one'), qos: 1, retain: false, dup: false }, (err) => (err ? fail(err) : ok())));
    assert.equal(nextBrokerCounter(hub.broker), expected + 1, 'the counter is taken synchronously as publish starts');
    await done;
    assert.equal(seen, expected, 'the message carries the counter nextBrokerCounter() announced');
  } finally {
    await endAll();
    await hub.close();
  }
});
