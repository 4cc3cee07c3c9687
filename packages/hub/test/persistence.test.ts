// What survives a restart of the hub, including kill -9: persistent sessions and their
// subscriptions, QoS 1 messages queued for them (every PUBACKed one), retained messages, wills.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, endAll, openConfig, record, sessionPresent, startHubProcess, stopProcesses, subscribe, tempDir, waitFor } from '@baetyl/test-support';

const auth = { username: 'test', password: 'hahaha' };

describe('persistence', () => {
  after(async () => {
    await endAll();
    await stopProcesses();
  });

  it('delivers every acknowledged QoS 1 message queued for an offline persistent session after kill -9', async () => {
    const dir = tempDir('hub-test-');
    let hub = await startHubProcess({ dir, config: openConfig() });
    // Several offline sessions, so the hub has real work to store per message.
    const sessions = 8;
    for (let k = 0; k < sessions; k++) {
      const sub = await connect(hub.url('tcp'), { ...auth, clientId: `keeper${k}`, clean: false });
      assert.deepEqual(await subscribe(sub, 'queue/#', 1), [1]);
      await sub.endAsync();
    }
    const pub = await connect(hub.url('tcp'), auth);
    await pub.publishAsync('keep/r', 'retained', { qos: 1, retain: true });
    const n = 200;
    const body = 'x'.repeat(4000);
    // Kill the hub the moment the last PUBACK arrives: every acknowledged message must be on disk.
    let acked = 0;
    const killed = new Promise<void>((ok) => {
      pub.on('packetreceive', (p) => {
        if (p.cmd === 'puback' && ++acked === n) {
          hub.proc.kill('SIGKILL');
          ok();
        }
      });
    });
    for (let i = 0; i < n; i++) pub.publish(`queue/${i % 7}`, `${i} ${body}`, { qos: 1 });
    await killed;
    await hub.kill9();
    pub.end(true);

    hub = await startHubProcess({ dir, config: openConfig() });
    const again = await connect(hub.url('tcp'), { ...auth, clientId: 'keeper0', clean: false });
    const got = record(again);
    assert.equal(sessionPresent(again), true);
    await waitFor(`${n} queued messages`, () => new Set(got.map((m) => m.payload)).size === n, 60_000);
    assert.ok(got.every((m) => m.qos === 1));
    const last = await connect(hub.url('tcp'), { ...auth, clientId: `keeper${sessions - 1}`, clean: false });
    const gotLast = record(last);
    await waitFor(`${n} queued messages for the last session`, () => new Set(gotLast.map((m) => m.payload)).size === n, 60_000);
    // the restored subscription keeps working for new messages
    const pub2 = await connect(hub.url('tcp'), auth);
    await pub2.publishAsync('queue/new', 'fresh', { qos: 1 });
    await waitFor('a new message on the restored subscription', () => got.some((m) => m.payload === 'fresh'));
    // the retained message survived too
    const late = await connect(hub.url('tcp'), auth);
    const got2 = record(late);
    await subscribe(late, 'keep/#', 1);
    await waitFor('the retained message', () => got2.length === 1);
    assert.deepEqual([got2[0]!.payload, got2[0]!.retain], ['retained', true]);
  });

  it('a clean session discards what an earlier persistent session with its id had queued, and its QoS 1 traffic flows', async () => {
    const dir = tempDir('hub-test-');
    const hub = await startHubProcess({ dir, config: openConfig() });
    const first = await connect(hub.url('tcp'), { ...auth, clientId: 'shifty', clean: false });
    await subscribe(first, 'old/#', 1);
    await first.endAsync();
    const pub = await connect(hub.url('tcp'), auth);
    for (let i = 0; i < 5; i++) await pub.publishAsync('old/q', `queued ${i}`, { qos: 1 });
    // The same id, clean: nothing of the old session is delivered, live QoS 1 messages are, acked.
    const clean = await connect(hub.url('tcp'), { ...auth, clientId: 'shifty', clean: true });
    assert.equal(sessionPresent(clean), false);
    const got = record(clean);
    await subscribe(clean, 'live/#', 1);
    for (let i = 0; i < 50; i++) await pub.publishAsync('live/q', `live ${i}`, { qos: 1 });
    await waitFor('50 live messages', () => got.length === 50);
    assert.ok(got.every((m) => m.topic === 'live/q' && m.qos === 1));
    await clean.endAsync();
    // Back to a persistent session: the old queue went with the clean session, nothing is redelivered.
    const again = await connect(hub.url('tcp'), { ...auth, clientId: 'shifty', clean: false });
    const got2 = record(again);
    await subscribe(again, 'check/#', 1);
    await pub.publishAsync('check/q', 'marker', { qos: 1 });
    await waitFor('the marker', () => got2.some((m) => m.payload === 'marker'));
    assert.deepEqual(
      got2.map((m) => m.payload),
      ['marker'],
    );
  });

  it('queues nothing for an offline QoS 0 subscription, even when a QoS 1 subscription of another client matches', async () => {
    const hub = await startHubProcess({ dir: tempDir('hub-test-'), config: openConfig() });
    // The tutorial's shape: the sql rule subscribes to t at QoS 1, the python rule at QoS 0.
    const one = await connect(hub.url('tcp'), { ...auth, clientId: 'rule-qos1', clean: false });
    const gotOne = record(one);
    assert.deepEqual(await subscribe(one, 't', 1), [1]);
    const zero = await connect(hub.url('tcp'), { ...auth, clientId: 'rule-qos0', clean: false });
    assert.deepEqual(await subscribe(zero, 't', 0), [0]);
    await zero.endAsync();
    const pub = await connect(hub.url('tcp'), auth);
    await pub.publishAsync('t', 'while away', { qos: 1 });
    await waitFor('the QoS 1 subscriber', () => gotOne.length === 1);
    // Back: nothing was queued for the QoS 0 subscription; live messages come at QoS 0.
    const back = await connect(hub.url('tcp'), { ...auth, clientId: 'rule-qos0', clean: false });
    assert.equal(sessionPresent(back), true);
    const gotBack = record(back);
    await pub.publishAsync('t', 'live', { qos: 1 });
    await waitFor('the live message', () => gotBack.some((m) => m.payload === 'live'));
    assert.deepEqual(
      gotBack.map((m) => [m.payload, m.qos]),
      [['live', 0]],
    );
  });

  it('publishes, after kill -9 and restart, the wills of clients that were connected', async () => {
    const dir = tempDir('hub-test-');
    let hub = await startHubProcess({ dir, config: openConfig() });
    const watcher = await connect(hub.url('tcp'), { ...auth, clientId: 'watcher', clean: false });
    await subscribe(watcher, 'wills/#', 1);
    await watcher.endAsync();
    await connect(hub.url('tcp'), { ...auth, clientId: 'mortal', will: { topic: 'wills/mortal', payload: Buffer.from('gone'), qos: 1, retain: true } });
    await hub.kill9();

    hub = await startHubProcess({ dir, config: openConfig() });
    const w = await connect(hub.url('tcp'), { ...auth, clientId: 'watcher', clean: false });
    const got = record(w);
    await waitFor('the will queued for the persistent session', () => got.some((m) => m.topic === 'wills/mortal'));
    const late = await connect(hub.url('tcp'), auth);
    const got2 = record(late);
    await subscribe(late, 'wills/#', 0);
    await waitFor('the retained will', () => got2.some((m) => m.payload === 'gone' && m.retain));
  });

  it('stops on SIGTERM with exit 0, keeps sessions and does not publish wills', async () => {
    const dir = tempDir('hub-test-');
    let hub = await startHubProcess({ dir, config: openConfig() });
    const watcher = await connect(hub.url('tcp'), { ...auth, clientId: 'watcher2', clean: false });
    await subscribe(watcher, ['gw/#', 'later'], 1);
    await watcher.endAsync();
    await connect(hub.url('tcp'), { ...auth, clientId: 'graceful', will: { topic: 'gw/graceful', payload: Buffer.from('gone'), qos: 1, retain: false } });
    const pub = await connect(hub.url('tcp'), auth);
    await pub.publishAsync('later', 'queued', { qos: 1 });
    assert.equal(await hub.stop(), 0);
    assert.match(hub.output(), /hub stopped/);

    hub = await startHubProcess({ dir, config: openConfig() });
    const w = await connect(hub.url('tcp'), { ...auth, clientId: 'watcher2', clean: false });
    const got = record(w);
    await waitFor('the queued message', () => got.some((m) => m.topic === 'later'));
    const p2 = await connect(hub.url('tcp'), auth);
    await p2.publishAsync('gw/end', 'end', { qos: 1 });
    await waitFor('the marker', () => got.some((m) => m.topic === 'gw/end'));
    assert.ok(!got.some((m) => m.topic === 'gw/graceful'));
  });
});
