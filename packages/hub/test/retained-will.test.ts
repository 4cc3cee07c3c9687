// Wildcards, overlapping subscriptions, retained messages, wills and QoS 2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, endAll, record, startHubProcess, stopProcesses, subscribe, waitFor, type HubProcess } from '@baetyl/test-support';

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
  - username: reader
    password: pw
    permissions:
      - action: sub
        permit: ['public/#']
`;

describe('messages', () => {
  let hub: HubProcess;
  before(async () => {
    hub = await startHubProcess({ config });
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });
  const admin = (opts = {}) => connect(hub.url('tcp'), { username: 'admin', password: 'admin', ...opts });

  it('matches + and #, and a/# matches a', async () => {
    const c = await admin();
    const got = record(c);
    await subscribe(c, ['w/+/x', 'h/#'], 0);
    for (const t of ['w/1/x', 'w/1/2/x', 'w/x', 'h', 'h/1', 'h/1/2', 'other']) await c.publishAsync(t, t);
    await waitFor('5 messages', () => got.length >= 4);
    await c.publishAsync('h/end', 'end');
    await waitFor('the end marker', () => got.some((m) => m.topic === 'h/end'));
    assert.deepEqual(got.map((m) => m.topic).sort(), ['h', 'h/1', 'h/1/2', 'h/end', 'w/1/x']);
  });

  it('sends one copy to overlapping subscriptions, at the highest QoS granted', async () => {
    const c = await admin();
    const got = record(c);
    await subscribe(c, 'ov/#', 0);
    await subscribe(c, 'ov/+', 1);
    await subscribe(c, '+/x', 0);
    const p = await admin();
    await p.publishAsync('ov/x', 'one', { qos: 1 });
    await p.publishAsync('ov/end', 'end', { qos: 0 });
    await waitFor('the end marker', () => got.some((m) => m.topic === 'ov/end'));
    const copies = got.filter((m) => m.topic === 'ov/x');
    assert.equal(copies.length, 1);
    assert.equal(copies[0]!.qos, 1);
  });

  it('keeps retained messages, sends them on subscribe with RETAIN set, and deletes them with an empty retained payload', async () => {
    const p = await admin();
    await p.publishAsync('ret/a', 'kept', { qos: 1, retain: true });
    const c = await admin();
    const got = record(c);
    await subscribe(c, 'ret/#', 1);
    await waitFor('the retained message', () => got.length === 1);
    assert.deepEqual(got[0], { topic: 'ret/a', payload: 'kept', qos: 1, retain: true });
    // live messages on a matching topic arrive with RETAIN cleared
    await p.publishAsync('ret/a', 'live', { qos: 0, retain: true });
    await waitFor('the live copy', () => got.length === 2);
    assert.equal(got[1]!.retain, false);
    await p.publishAsync('ret/a', '', { qos: 1, retain: true });
    const d = await admin();
    const got2 = record(d);
    await subscribe(d, ['ret/#', 'mark'], 0);
    await p.publishAsync('mark', 'm');
    await waitFor('the marker', () => got2.some((m) => m.topic === 'mark'));
    assert.ok(!got2.some((m) => m.topic === 'ret/a'));
  });

  it('never sends retained messages to a filter it refused', async () => {
    const p = await admin();
    await p.publishAsync('secret/r', 'private', { qos: 1, retain: true });
    await p.publishAsync('public/r', 'public', { qos: 1, retain: true });
    const r = await connect(hub.url('tcp'), { username: 'reader', password: 'pw' });
    const got = record(r);
    assert.deepEqual(await subscribe(r, ['secret/#', 'public/#', '#'], 1), [128, 1, 128]);
    await waitFor('the public retained message', () => got.length === 1);
    await p.publishAsync('public/end', 'end');
    await waitFor('the marker', () => got.some((m) => m.topic === 'public/end'));
    assert.deepEqual(
      got.map((m) => m.topic),
      ['public/r', 'public/end'],
    );
  });

  it('publishes the will when a client vanishes, not when it disconnects', async () => {
    const watcher = await admin();
    const got = record(watcher);
    await subscribe(watcher, 'will/#', 1);
    const a = await admin({ clientId: 'willA', will: { topic: 'will/a', payload: Buffer.from('a gone'), qos: 1, retain: false } });
    const b = await admin({ clientId: 'willB', will: { topic: 'will/b', payload: Buffer.from('b gone'), qos: 1, retain: true } });
    await a.endAsync(); // DISCONNECT: no will
    b.stream.destroy(); // vanished: will
    await waitFor('the will of b', () => got.some((m) => m.topic === 'will/b'));
    await watcher.publishAsync('will/end', 'end', { qos: 1 });
    await waitFor('the marker', () => got.some((m) => m.topic === 'will/end'));
    assert.ok(!got.some((m) => m.topic === 'will/a'));
    // b's will was retained
    const late = await admin();
    const got2 = record(late);
    await subscribe(late, 'will/b', 0);
    await waitFor('the retained will', () => got2.length === 1);
    assert.equal(got2[0]!.payload, 'b gone');
  });

  it('publishes the will of a client taken over by a new connection with its id', async () => {
    const watcher = await admin();
    const got = record(watcher);
    await subscribe(watcher, 'takeover', 0);
    await admin({ clientId: 'same', will: { topic: 'takeover', payload: Buffer.from('old'), qos: 0, retain: false } });
    await admin({ clientId: 'same' });
    await waitFor('the will of the old connection', () => got.length === 1);
  });

  it('supports QoS 2 end to end', async () => {
    const c = await admin();
    const got = record(c);
    assert.deepEqual(await subscribe(c, 'q2/#', 2), [2]);
    const p = await admin();
    await p.publishAsync('q2/a', 'exactly once', { qos: 2 });
    await waitFor('the QoS 2 message', () => got.length === 1);
    assert.equal(got[0]!.qos, 2);
  });
});
