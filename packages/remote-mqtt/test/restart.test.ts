// Nothing is lost with QoS 1 and persistent sessions: messages flow both ways while mosquitto is
// stopped and started again (its store kept: a broker's own durability is not the bridge's to
// give), and while the bridge is killed with SIGKILL and started again. Every message id is
// counted at its receiver; QoS 1 allows duplicates, not gaps.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, distinct, endClients, recorder } from './fixtures/clients.js';
import { cleanUp, mosquittoSkip, startBridge, startHub, startMosquitto, tempDir, type Hub, type Mosquitto, type Proc } from './fixtures/procs.js';

const skip = mosquittoSkip();

function config(hub: string, remote: string): string {
  return `hub:
  address: ${hub}
  username: test
  password: hahaha
  interval: 1s
remotes:
  - name: cloud
    address: ${remote}
    clientid: bridge-restart
    username: cloud
    password: secret
    interval: 1s
    buffersize: 20
rules:
  - hub:
      subscriptions:
        - topic: up/#
          qos: 1
    remote:
      name: cloud
      subscriptions:
        - topic: down/#
          qos: 1
logger:
  level: debug
`;
}

interface Setup {
  hub: Hub;
  cloud: Mosquitto;
  bridge: Proc;
  dir: string;
}

async function setUp(): Promise<Setup> {
  const cloud = await startMosquitto({ users: { cloud: 'secret', tester: 'tester' } });
  const hub = await startHub();
  const dir = tempDir('rm-bridge-');
  const bridge = startBridge(dir, config(hub.url, cloud.url));
  await bridge.waitFor(/subscribed on the hub to up\/#/);
  await bridge.waitFor(/subscribed on the remote \\"cloud\\" to down\/#/);
  return { hub, cloud, bridge, dir };
}

/**
 * Publishes n QoS 1 messages from a persistent client, one every 5 ms, calling `atHalf` (without
 * waiting for it: publishing goes on during the outage it makes); resolves when all are
 * acknowledged and `atHalf` is done.
 */
async function publishAll(
  url: string,
  auth: { username: string; password: string },
  clientId: string,
  topic: string,
  n: number,
  prefix: string,
  atHalf: () => Promise<void>,
): Promise<void> {
  const client = await connect(url, { ...auth, clientId, clean: false });
  const sent: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) {
    // MQTT.js keeps what it could not send and sends it again once connected.
    sent.push(client.publishAsync(topic, `${prefix}${i}`, { qos: 1 }));
    if (i === Math.floor(n / 2)) sent.push(atHalf());
    await new Promise((ok) => setTimeout(ok, 5));
  }
  await Promise.all(sent);
}

describe('remote-mqtt: nothing lost across restarts', { skip }, () => {
  after(async () => {
    await endClients();
    await cleanUp();
  });

  it('across a stop and start of the remote broker, both ways', async () => {
    const s = await setUp();
    const tester = { username: 'tester', password: 'tester' };
    const test = { username: 'test', password: 'hahaha' };
    // Persistent receivers, so that the cloud one keeps its own messages across the restart too.
    const atCloud = await recorder(s.cloud.url, ['up/#'], { ...tester, clientId: 'cloud-receiver', clean: false });
    const atHub = await recorder(s.hub.url, ['down/#'], { ...test, clientId: 'hub-receiver', clean: false });
    const n = 300;
    let restarted: Promise<Mosquitto> | undefined;
    const restart = async () => {
      restarted ??= s.cloud.restart();
      await restarted;
    };
    await Promise.all([
      publishAll(s.hub.url, test, 'hub-publisher', 'up/x', n, 'u', restart),
      publishAll(s.cloud.url, tester, 'cloud-publisher', 'down/x', n, 'd', restart),
    ]);
    await atCloud.until((r) => distinct(r, 'up/x').size === n, 60_000, `${n} messages at the cloud`);
    await atHub.until((r) => distinct(r, 'down/x').size === n, 60_000, `${n} messages at the hub`);
    assert.ok(s.bridge.alive());
    // The outage was long enough to fill the buffer: the rest waited at the hub and came from there.
    assert.match(s.bridge.output(), /disconnected from the remote \\"cloud\\"/);
    assert.match(s.bridge.output(), /the remote \\"cloud\\" is down and 20 message\(s\) wait for it/);
    assert.match(s.bridge.output(), /reconnecting to the hub to fetch the messages left with it/);
  });

  // Under load this once lost messages cloud -> hub: a message left unacknowledged on a
  // connection whose 'connect' had not been emitted yet was forgotten (bridge/connection.ts,
  // leftOn). On a failure the test prints the missing ids and the bridge's log.
  it('across a kill -9 of the bridge, both ways', async (t) => {
    const s = await setUp();
    const tester = { username: 'tester', password: 'tester' };
    const test = { username: 'test', password: 'hahaha' };
    const atCloud = await recorder(s.cloud.url, ['up/#'], tester);
    const atHub = await recorder(s.hub.url, ['down/#'], test);
    const n = 300;
    let bridge = s.bridge;
    let restarted: Promise<void> | undefined;
    const killAndRestart = async () => {
      restarted ??= (async () => {
        await bridge.kill9();
        bridge = startBridge(s.dir);
        await bridge.waitFor(/connected to the remote \\"cloud\\".*sessionpresent=true/);
        await bridge.waitFor(/connected to the hub.*sessionpresent=true/);
      })();
      await restarted;
    };
    await Promise.all([
      publishAll(s.hub.url, test, 'hub-publisher-2', 'up/y', n, 'u', killAndRestart),
      publishAll(s.cloud.url, tester, 'cloud-publisher-2', 'down/y', n, 'd', killAndRestart),
    ]);
    await atCloud.until((r) => distinct(r, 'up/y').size === n, 60_000, `${n} messages at the cloud`);
    try {
      await atHub.until((r) => distinct(r, 'down/y').size === n, 60_000, `${n} messages at the hub`);
    } catch (err) {
      const got = distinct(atHub.received, 'down/y');
      const missing = Array.from({ length: n }, (_, i) => `d${i}`).filter((id) => !got.has(id));
      t.diagnostic(`missing at the hub: ${missing.join(',')}; received in order: ${atHub.received.map((m) => m.payload).join(',')}`);
      for (const line of bridge.output().split('\n').slice(-300)) t.diagnostic(`bridge: ${line}`);
      throw err;
    }
    assert.ok(bridge.alive());
  });

  it('across a kill -9 of the bridge while it holds copies for a side that is down, both ways', async () => {
    const s = await setUp();
    const tester = { username: 'tester', password: 'tester' };
    const test = { username: 'test', password: 'hahaha' };
    const n = 60;
    let bridge = s.bridge;
    const killAndRestart = async (why: RegExp) => {
      await bridge.waitFor(why);
      await bridge.kill9();
      bridge = startBridge(s.dir);
    };
    // The remote is down: the bridge holds 20 copies (buffersize) and leaves the rest at the hub.
    // Had it acknowledged them to the hub already, those 20 would be lost with it.
    const atCloud = await recorder(s.cloud.url, ['up/#'], { ...tester, clientId: 'cloud-receiver-3', clean: false });
    await s.cloud.stop();
    const toHub = await connect(s.hub.url, test);
    await Promise.all(Array.from({ length: n }, (_, i) => toHub.publishAsync('up/z', `u${i}`, { qos: 1 })));
    await killAndRestart(/the remote \\"cloud\\" is down and 20 message\(s\) wait for it/);
    s.cloud = await s.cloud.again();
    await atCloud.until((r) => distinct(r, 'up/z').size === n, 60_000, `${n} messages at the cloud`);
    // The same with the hub down (its buffersize is the default, 10) and messages from the remote.
    const atHub = await recorder(s.hub.url, ['down/#'], { ...test, clientId: 'hub-receiver-3', clean: false });
    await bridge.waitFor(/subscribed on the remote/);
    const from = bridge.output().length;
    await s.hub.stop();
    const toCloud = await connect(s.cloud.url, tester);
    await Promise.all(Array.from({ length: n }, (_, i) => toCloud.publishAsync('down/z', `d${i}`, { qos: 1 })));
    await bridge.waitFor(/the hub is down and 10 message\(s\) wait for it/, { from });
    await bridge.kill9();
    s.hub = await s.hub.again();
    bridge = startBridge(s.dir);
    await atHub.until((r) => distinct(r, 'down/z').size === n, 60_000, `${n} messages at the hub`);
    assert.ok(bridge.alive());
  });
});
