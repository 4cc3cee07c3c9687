// The bridge as a real process between our real hub and a real mosquitto, over TCP: QoS 1 both
// ways, no loop on a topic forwarded both ways, a wrong password, a clean stop.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, distinct, endClients, recorder } from './fixtures/clients.js';
import { cleanUp, mosquittoSkip, startBridge, startHub, startMosquitto, tempDir, type Hub, type Mosquitto, type Proc } from './fixtures/procs.js';

const skip = mosquittoSkip();

function bridgeConfig(hub: string, remote: string, opts: { clientid: string; password: string }): string {
  return `hub:
  address: ${hub}
  username: test
  password: hahaha
remotes:
  - name: cloud
    address: ${remote}
    clientid: ${opts.clientid}
    username: cloud
    password: ${opts.password}
    interval: 2s
rules:
  - hub:
      subscriptions:
        - topic: up/#
          qos: 1
        - topic: a
          qos: 1
    remote:
      name: cloud
      subscriptions:
        - topic: down/#
          qos: 1
        - topic: a
          qos: 1
logger:
  level: debug
`;
}

describe('remote-mqtt over TCP', { skip }, () => {
  let hub: Hub;
  let cloud: Mosquitto;
  let bridge: Proc;
  before(async () => {
    cloud = await startMosquitto({ users: { cloud: 'secret', tester: 'tester' } });
    hub = await startHub();
    bridge = startBridge(tempDir('rm-bridge-'), bridgeConfig(hub.url, cloud.url, { clientid: 'bridge-tcp', password: 'secret' }));
    await bridge.waitFor(/subscribed on the hub to up\/# \(QoS 1\), a \(QoS 1\)/);
    await bridge.waitFor(/subscribed on the remote \\"cloud\\" to down\/# \(QoS 1\), a \(QoS 1\)/);
  });
  after(async () => {
    await endClients();
    await cleanUp();
  });

  it('forwards QoS 1 messages hub -> remote and remote -> hub, every one of them, as QoS 1', async () => {
    const atCloud = await recorder(cloud.url, ['up/#'], { username: 'tester', password: 'tester' });
    const atHub = await recorder(hub.url, ['down/#'], { username: 'test', password: 'hahaha' });
    const toHub = await connect(hub.url, { username: 'test', password: 'hahaha' });
    const toCloud = await connect(cloud.url, { username: 'tester', password: 'tester' });
    const n = 200;
    await Promise.all(
      Array.from({ length: n }, (_, i) => [toHub.publishAsync('up/sensor', `u${i}`, { qos: 1 }), toCloud.publishAsync('down/cmd', `d${i}`, { qos: 1 })]).flat(),
    );
    await atCloud.until((r) => distinct(r, 'up/sensor').size === n, 30_000, `${n} messages at the cloud`);
    await atHub.until((r) => distinct(r, 'down/cmd').size === n, 30_000, `${n} messages at the hub`);
    assert.ok(atCloud.received.every((m) => m.qos === 1));
    assert.ok(atHub.received.every((m) => m.qos === 1));
    await Promise.all([atCloud.client.endAsync(), atHub.client.endAsync()]);
  });

  it('forwards no loop when a topic goes both ways', async () => {
    const from = bridge.output().length;
    const atCloud = await recorder(cloud.url, ['a'], { username: 'tester', password: 'tester' });
    const atHub = await recorder(hub.url, ['a'], { username: 'test', password: 'hahaha' });
    const onHub = await connect(hub.url, { username: 'test', password: 'hahaha' });
    const onCloud = await connect(cloud.url, { username: 'tester', password: 'tester' });
    await onHub.publishAsync('a', 'from-hub', { qos: 1 });
    await onCloud.publishAsync('a', 'from-cloud', { qos: 1 });
    const both = (r: Array<{ payload: string }>) => r.some((m) => m.payload === 'from-hub') && r.some((m) => m.payload === 'from-cloud');
    await atCloud.until(both, 30_000, 'both messages at the cloud');
    await atHub.until(both, 30_000, 'both messages at the hub');
    // Each copy came back to the bridge once, and went no further.
    await bridge.waitFor(/own copy coming back from the remote/, { from });
    await bridge.waitFor(/own copy coming back from the hub/, { from });
    // A loop would keep these growing; give it time to show.
    await new Promise((ok) => setTimeout(ok, 1500));
    assert.deepEqual(atCloud.received.map((m) => m.payload).sort(), ['from-cloud', 'from-hub']);
    assert.deepEqual(atHub.received.map((m) => m.payload).sort(), ['from-cloud', 'from-hub']);
    await Promise.all([atCloud.client.endAsync(), atHub.client.endAsync()]);
  });

  it('a wrong password: one clear line per attempt, retries with backoff, the hub side keeps working, and it connects once the password is right', async () => {
    const dir = tempDir('rm-badpw-');
    const bad = startBridge(dir, bridgeConfig(hub.url, cloud.url, { clientid: 'bridge-badpw', password: 'wrong' }));
    const refused =
      /level=error msg="the remote \\"cloud\\" refused the connection of client bridge-badpw: (bad username or password|not authorized) \(CONNACK code [45]\); retrying in (\d+) ms"/;
    await bad.waitFor(refused, { count: 4 });
    await bad.waitFor(/connected to the hub/);
    assert.ok(bad.alive(), 'the bridge keeps running');
    const lines = bad.output().split('\n');
    const errors = lines.filter((l) => l.includes('level=error'));
    assert.ok(
      errors.every((l) => refused.test(l)),
      `only the refusals are errors:\n${errors.join('\n')}`,
    );
    const waits = lines
      .map((l) => refused.exec(l)?.[2])
      .filter((w): w is string => w !== undefined)
      .map(Number);
    assert.deepEqual(waits.slice(0, 4), [500, 1000, 2000, 2000], 'the wait doubles up to interval (2s)');
    cloud.setUsers({ cloud: 'wrong', tester: 'tester' });
    await bad.waitFor(/connected to the remote \\"cloud\\"/, { timeoutMs: 20_000 });
    assert.equal(await bad.stop(), 0);
    cloud.setUsers({ cloud: 'secret', tester: 'tester' });
  });

  it('stops cleanly on SIGTERM', async () => {
    assert.equal(await bridge.stop(), 0);
    assert.match(bridge.output(), /msg="remote-mqtt stopping".* signal=SIGTERM/);
    assert.match(bridge.output(), /msg="remote-mqtt stopped"/);
  });
});
