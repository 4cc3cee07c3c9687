// Each of the hub's aedes hooks (src/broker/hooks/), through an in-process hub with real MQTT
// clients on a loopback socket: the process tests (auth, acl, routes, ...) check the same rules
// end to end through main.js; these run in a second and name the hook that answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { parseHubConfig } from '../src/config/load.js';
import { startHub, type Hub } from '../src/broker/hub.js';
import {
  closed,
  connect,
  ConnectRefused,
  connectPacket,
  endAll,
  handBuilt,
  rawConnect,
  readBytes,
  readUntilClosed,
  record,
  subscribe,
  waitFor,
} from '@baetyl/test-support';

const CONFIG = `listen: [tcp://127.0.0.1:0]
principals:
  - username: admin
    password: admin
    permissions: [{action: pub, permit: ['#']}, {action: sub, permit: ['#']}]
  - username: dev
    password: devpass
    permissions: [{action: pub, permit: ['dev/#']}, {action: sub, permit: ['dev/#', 'out/#']}]
subscriptions:
  - {source: {topic: 'in/q1', qos: 1}, target: {topic: 'out/q1', qos: 1}}
  - {source: {topic: 'in/q0'}, target: {topic: 'out/q0'}}
logger: {level: error}
`;

describe('the hub hooks, in process', () => {
  let hub: Hub;
  let url: string;
  const as = (username: string, password: string, opts: IClientOptions = {}) => connect(url, { username, password, ...opts });
  const admin = (opts: IClientOptions = {}) => as('admin', 'admin', opts);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('the connection was accepted'),
      (err: unknown) => {
        assert.ok(err instanceof ConnectRefused, String(err));
        return err.code;
      },
    );

  before(async () => {
    hub = await startHub(parseHubConfig(CONFIG, 'service.yml'), { cwd: mkdtempSync(join(tmpdir(), 'hub-hooks-')) });
    url = hub.addresses[0]!.replace('tcp:', 'mqtt:');
  });
  after(async () => {
    await endAll();
    await hub.close();
  });

  it('preConnect: a will topic with a wildcard closes the connection without CONNACK', async () => {
    const s = await rawConnect(hub.addresses[0]!);
    s.write(connectPacket({ clientId: 'badwill', username: 'admin', password: 'admin', will: { topic: 'a/#', payload: Buffer.from('x') } }));
    assert.equal((await readUntilClosed(s)).length, 0, 'no CONNACK');
  });

  it('authenticate: a wrong password or an unknown user gets CONNACK 4', async () => {
    assert.equal(await refusal(as('admin', 'nope')), 4);
    assert.equal(await refusal(as('nobody', 'x')), 4);
    assert.equal(await refusal(connect(url, {})), 4, 'no username');
  });

  it('authenticate: a bad client id, or an empty one without a clean session, gets CONNACK 2', async () => {
    assert.equal(await refusal(admin({ clientId: 'has space' })), 2);
    assert.equal(await refusal(admin({ clientId: 'x'.repeat(129) })), 2);
    // Hand-built bytes: neither MQTT.js nor mqtt-packet writes an empty id without a clean session.
    const s = await rawConnect(hub.addresses[0]!);
    s.write(handBuilt.connect({ clientId: '', clean: false, username: 'admin', password: 'admin' }));
    assert.deepEqual([...(await readBytes(s, 4))], [0x20, 0x02, 0x00, 0x02]);
    s.destroy();
    await admin({ clientId: 'x'.repeat(128) });
  });

  it('authenticate: a will on a topic the principal may not publish on gets CONNACK 5', async () => {
    assert.equal(await refusal(as('dev', 'devpass', { will: { topic: 'other/will', payload: Buffer.from('x'), qos: 0, retain: false } })), 5);
    await as('dev', 'devpass', { will: { topic: 'dev/will', payload: Buffer.from('x'), qos: 0, retain: false } });
  });

  it('authorizeSubscribe: 0x80 for a filter without sub permission and for one over Baetyl limits, in the same SUBSCRIBE as a granted one', async () => {
    const dev = await as('dev', 'devpass');
    assert.deepEqual(await subscribe(dev, ['dev/a', 'secret/#', 'dev/b/c/d/e/f/g/h/i/j'], 1), [1, 128, 128]);
    assert.equal(dev.connected, true, 'the connection stays open');
  });

  it('authorizePublish: a publish without pub permission closes the connection and is not delivered', async () => {
    const watcher = await admin();
    await subscribe(watcher, '#', 0);
    const dev = await as('dev', 'devpass');
    const gone = closed(dev);
    dev.publish('secret/x', 'no', { qos: 0 });
    await gone;
    await (await admin()).publishAsync('marker', 'm', { qos: 1 });
    await waitFor('the marker', () => record(watcher).some((m) => m.topic === 'marker'));
    assert.deepEqual(
      record(watcher).filter((m) => m.topic === 'secret/x'),
      [],
    );
  });

  it('publish with routes: a QoS 1 message is acknowledged once stored, delivered once, and its routed copy once', async () => {
    const watcher = await admin();
    await subscribe(watcher, ['in/#', 'out/#'], 1);
    const pub = await admin();
    await pub.publishAsync('in/q1', 'one', { qos: 1 });
    await pub.publishAsync('in/q0', 'two', { qos: 0 });
    await pub.publishAsync('in/marker', 'm', { qos: 1 });
    await waitFor('the marker', () => record(watcher).some((m) => m.topic === 'in/marker'));
    await waitFor('the routed copies', () => record(watcher).filter((m) => m.topic.startsWith('out/')).length === 2);
    const got = record(watcher).map((m) => `${m.topic} ${m.payload} qos${m.qos}`);
    assert.deepEqual(got.sort(), ['in/marker m qos1', 'in/q0 two qos0', 'in/q1 one qos1', 'out/q0 two qos0', 'out/q1 one qos1']);
  });

  it('delivery: overlapping subscriptions get one copy, at the best QoS granted', async () => {
    const c = await admin();
    await subscribe(c, 'ov/#', 0);
    await subscribe(c, 'ov/x', 1);
    const pub = await admin();
    await pub.publishAsync('ov/x', 'once', { qos: 1 });
    await pub.publishAsync('ov/marker', 'm', { qos: 1 });
    await waitFor('the marker', () => record(c).some((m) => m.topic === 'ov/marker'));
    assert.deepEqual(
      record(c).map((m) => `${m.topic} qos${m.qos}`),
      ['ov/x qos1', 'ov/marker qos0'],
    );
  });

  it('stats: clients and subscriptions as aedes holds them', async () => {
    await endAll();
    await waitFor('no clients', () => hub.stats().clients === 0);
    const c = await admin();
    await subscribe(c, ['s/1', 's/2'], 0);
    assert.equal(hub.stats().clients, 1);
    assert.equal(hub.stats().subscriptions, 2);
    assert.equal(hub.stats().rule_count, 2);
  });
});
