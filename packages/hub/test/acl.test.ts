// Publish and subscribe permissions: 0x80 for a refused filter, a closed connection for a
// refused publish, and permits that must cover the whole filter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  closed,
  connect,
  connectPacket,
  endAll,
  PINGREQ,
  PINGRESP,
  rawConnect,
  readBytes,
  record,
  startHubProcess,
  stopProcesses,
  subscribe,
  subscribePacket,
  waitFor,
  type HubProcess,
} from '@baetyl/test-support';

const config = `listen:
  - tcp://127.0.0.1:0
principals:
  - username: admin
    password: admin
    permissions:
      - action: pub
        permit: ['#']
      - action: sub
        permit: ['#']
  - username: user
    password: pw
    permissions:
      - action: pub
        permit: ['out/+', 'log/#']
      - action: sub
        permit: ['in/#', 'a/+', 'exact/topic']
`;

describe('ACL', () => {
  let hub: HubProcess;
  before(async () => {
    hub = await startHubProcess({ config });
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });
  const user = () => connect(hub.url('tcp'), { username: 'user', password: 'pw' });
  const admin = () => connect(hub.url('tcp'), { username: 'admin', password: 'admin' });

  it('grants permitted filters and answers 0x80 for the others in the same SUBSCRIBE', async () => {
    const c = await user();
    const granted = await subscribe(c, ['in/x', 'secret/x', 'in/#', 'exact/topic', '#'], 1);
    assert.deepEqual(granted, [1, 128, 1, 1, 128]);
    assert.ok(c.connected);
  });

  it('requires a permit to cover the whole filter (a/+ allows a/b and a/+, not a/# nor a/b/c)', async () => {
    const c = await user();
    assert.deepEqual(await subscribe(c, ['a/b', 'a/+', 'a/#', 'a/b/c', '+/b', 'exact/+'], 0), [0, 0, 128, 128, 128, 128]);
  });

  it("answers 0x80 to filters over Baetyl's limits and to $ topics, keeping the connection", async () => {
    // MQTT.js refuses to send some of these, so raw bytes. (Filters that break MQTT itself,
    // like a/#/b, close the connection: conformance.test.ts.)
    const s = await rawConnect(hub.url('tcp'));
    s.write(connectPacket({ clientId: 'rawsub', username: 'admin', password: 'admin' }));
    assert.deepEqual([...(await readBytes(s, 4))], [0x20, 0x02, 0x00, 0x00]);
    s.write(subscribePacket(7, ['$SYS/#', 'ok/#', 'a/b/c/d/e/f/g/h/i/j', 'x'.repeat(256)]));
    assert.deepEqual([...(await readBytes(s, 8))], [0x90, 0x06, 0x00, 0x07, 128, 0, 128, 128]);
    s.write(PINGREQ);
    assert.deepEqual(await readBytes(s, 2), PINGRESP);
    s.destroy();
  });

  it('delivers permitted publishes', async () => {
    const watcher = await admin();
    const got = record(watcher);
    await subscribe(watcher, ['out/#', 'log/#'], 1);
    const c = await user();
    await c.publishAsync('out/a', '1', { qos: 1 });
    await c.publishAsync('log/a/b/c', '2', { qos: 0 });
    await waitFor('two messages', () => got.length === 2);
  });

  it('closes the connection of an unauthorized publish, without PUBACK, and publishes its will', async () => {
    const watcher = await admin();
    const got = record(watcher);
    await subscribe(watcher, ['#'], 1);
    const c = await connect(hub.url('tcp'), {
      username: 'user',
      password: 'pw',
      will: { topic: 'log/will', payload: Buffer.from('gone'), qos: 1, retain: false },
    });
    let acked = false;
    c.publish('secret/x', 'nope', { qos: 1 }, (err) => {
      if (!err) acked = true;
    });
    await closed(c);
    await waitFor('the will', () => got.some((m) => m.topic === 'log/will'));
    assert.equal(acked, false);
    assert.ok(!got.some((m) => m.topic === 'secret/x'));
    c.end(true);
  });

  it('closes the connection of a QoS 0 publish outside the permits too', async () => {
    const c = await user();
    c.publish('out/a/b', 'too deep for out/+');
    await closed(c);
  });

  it("closes the connection of a publish to a topic over Baetyl's limits (9 levels, 255 bytes)", async () => {
    const watcher = await admin();
    const got = record(watcher);
    await subscribe(watcher, '#', 0);
    const c = await admin();
    await c.publishAsync('1/2/3/4/5/6/7/8/9', 'nine levels');
    await waitFor('the 9-level message', () => got.some((m) => m.topic === '1/2/3/4/5/6/7/8/9'));
    c.publish('1/2/3/4/5/6/7/8/9/10', 'ten levels');
    await closed(c);
    const d = await admin();
    d.publish('x'.repeat(256), 'too long');
    await closed(d);
  });
});
