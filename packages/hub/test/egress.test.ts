// Per-client egress isolation: a subscriber that stops reading, or reads slowly, holds up only its
// own queue. Each test measures the publisher's PUBACK p99 and a healthy subscriber's delivery p99
// without the bad consumer (before it comes and after it is gone) and with it, in the same run,
// and compares them (a ratio, so it holds on a slow machine); and checks that the bad consumer
// was handled as docs/hub.md says.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import {
  connect,
  endAll,
  openConfig,
  p99,
  publishPaced,
  rawSubscriber,
  sentAt,
  startHubProcess,
  stopProcesses,
  subscribe,
  waitFor,
  type HubProcess,
} from '@baetyl/test-support';

const auth = { username: 'test', password: 'hahaha' };
const N = 5000;
const SIZE = 1024;
/** The most a p99 may grow with the bad consumer connected, against the run without it. */
const RATIO = 3;

interface Phase {
  puback: number;
  delivery: number;
  /** Wall-clock end of the phase (ms since the epoch), to compare with the hub's log. */
  endedAt: number;
}

interface Bench {
  pub: MqttClient;
  delivered: Map<number, number>;
  seq: number;
  phase(): Promise<Phase>;
  /** QoS 0 filler on fill/z (only a `#` subscriber gets it), to fill a bad consumer's socket buffers first. */
  fill(bytes: number): Promise<void>;
}

/** A publisher on x/y and a healthy subscriber on x/#, both QoS 1. */
async function bench(hub: HubProcess): Promise<Bench> {
  const healthy = await connect(hub.url('tcp'), { ...auth, clientId: 'healthy' });
  await subscribe(healthy, 'x/#', 1);
  const delivered = new Map<number, number>();
  healthy.on('message', (_t, p) => delivered.set(p.readUInt32BE(8), performance.now() - sentAt(p)));
  const pub = await connect(hub.url('tcp'), { ...auth, clientId: 'publisher' });
  const b: Bench = {
    pub,
    delivered,
    seq: 0,
    async fill(bytes) {
      const chunk = Buffer.alloc(16 * 1024, 0x66);
      for (let sent = 0; sent < bytes; sent += chunk.length) pub.publish('fill/z', chunk, { qos: 0 });
      // Its PUBACK comes once the hub has taken in the filler before it.
      await pub.publishAsync('fill/end', chunk, { qos: 1 });
    },
    async phase() {
      const first = b.seq;
      b.seq += N;
      const pubacks = await publishPaced(pub, 'x/y', first, N, SIZE);
      await waitFor(
        `${N} messages at the healthy subscriber`,
        () => {
          for (let i = first; i < first + N; i++) if (!delivered.has(i)) return false;
          return true;
        },
        120_000,
      );
      const lat: number[] = [];
      for (let i = first; i < first + N; i++) lat.push(delivered.get(i)!);
      return { puback: p99(pubacks), delivery: p99(lat), endedAt: Date.now() };
    },
  };
  // Warm-up (JIT, buffers): not measured.
  await b.phase();
  return b;
}

/**
 * The baseline is the slower of the runs without the bad consumer (before it came and after it
 * went), so that a machine busy with something else during one run does not fail the comparison.
 */
function assertIsolated(before: Phase, after: Phase, bad: Phase, who: string): void {
  const base = { puback: Math.max(before.puback, after.puback), delivery: Math.max(before.delivery, after.delivery) };
  const msg = (what: string, a: number, b: number) => `${what} p99 with ${who}: ${b.toFixed(1)} ms, against ${a.toFixed(1)} ms without (more than ${RATIO}x)`;
  assert.ok(bad.puback <= RATIO * base.puback, msg('PUBACK', base.puback, bad.puback));
  assert.ok(bad.delivery <= RATIO * base.delivery, msg('delivery', base.delivery, bad.delivery));
}

/** Waits, and on a timeout shows the end of the hub's log. */
async function waitLogged(hub: HubProcess, what: string, cond: () => boolean, ms: number): Promise<void> {
  await waitFor(what, cond, ms, () => `the hub's log ends with:\n${hub.output().slice(-3000)}`);
}

function lines(hub: HubProcess, re: RegExp): string[] {
  return hub
    .output()
    .split('\n')
    .filter((l) => re.test(l));
}

describe('egress isolation', () => {
  after(async () => {
    await endAll();
    await stopProcesses();
  });

  it('a stalled QoS 1 subscriber holds up nobody, and is disconnected after message.egress.drain.timeout with one log line', async () => {
    const hub = await startHubProcess({
      config: openConfig(['tcp://127.0.0.1:0'], 'message:\n  egress:\n    drain:\n      timeout: 15s\n    bytes:\n      max: 64m\n').replace(
        'level: debug',
        'level: info',
      ),
    });
    const b = await bench(hub);
    const base = await b.phase();
    const stalled = await rawSubscriber(hub.url('tcp'), { clientId: 'stalled', filter: '#', qos: 1, pace: 'stalled', auth });
    // Its socket is full before the measured messages start.
    await b.fill(5 * 2 ** 20);
    const withStall = await b.phase();
    // (A socket that is not read does not see its end: the hub's log says it.)
    await waitLogged(hub, 'the stalled subscriber to be disconnected', () => lines(hub, /client closed: .*client=stalled/).length > 0, 60_000);
    stalled.close();
    await new Promise((r) => setTimeout(r, 1500)); // what an aggregated line would still add
    const closing = lines(hub, /msg="client closed: [^"]*" .*client=stalled/);
    assert.equal(closing.length, 1, `one line for the stalled client's end:\n${closing.join('\n')}`);
    assert.match(closing[0]!, /client closed: drain timeout/);
    // It was still stalled, and connected, when the measured messages had all arrived.
    const at = Date.parse(/time=(\S+)/.exec(closing[0]!)![1]!);
    assert.ok(at >= withStall.endedAt, 'the stalled client was connected throughout the measured phase');
    assertIsolated(base, await b.phase(), withStall, 'a stalled subscriber');
    await hub.stop();
  });

  it('a slow clean-session reader (about 120 KB/s) holds up nobody, and is disconnected when its queue passes message.egress.bytes.max', async () => {
    const hub = await startHubProcess({
      config: openConfig(['tcp://127.0.0.1:0'], 'message:\n  egress:\n    bytes:\n      max: 2m\n').replace('level: debug', 'level: info'),
    });
    const b = await bench(hub);
    const base = await b.phase();
    const slow = await rawSubscriber(hub.url('tcp'), { clientId: 'slow', filter: '#', qos: 1, pace: 'slow', auth });
    await b.fill(4 * 2 ** 20);
    const withSlow = await b.phase();
    await waitLogged(hub, 'the slow subscriber to be disconnected', () => slow.closed, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    const closing = lines(hub, /msg="client closed: [^"]*" .*client=slow/);
    assert.equal(closing.length, 1, `one line for the slow client's end:\n${closing.join('\n')}`);
    assert.match(closing[0]!, /more than 2097152 bytes of QoS 1 messages waiting for the client \(message\.egress\.bytes\.max\)/);
    assert.ok(slow.seqs.length > 0 && slow.seqs.length < N, `the slow reader got part of the messages (${slow.seqs.length})`);
    assertIsolated(base, await b.phase(), withSlow, 'a slow subscriber');
    await hub.stop();
  });

  it('a slow persistent session holds up nobody, keeps its QoS 1 messages in the store, and gets every one when it reads again', async () => {
    const hub = await startHubProcess({
      config: openConfig(['tcp://127.0.0.1:0'], 'message:\n  egress:\n    qos1:\n      buffer:\n        size: 100\n      batch:\n        max: 50\n'),
    });
    const b = await bench(hub);
    // The baseline includes the persistent session (its store writes), reading as fast as it can.
    const slow = await rawSubscriber(hub.url('tcp'), { clientId: 'slowpersistent', filter: '#', qos: 1, pace: 'fast', clean: false, auth });
    const base = await b.phase();
    slow.setPace('slow');
    await b.fill(4 * 2 ** 20);
    const first = b.seq;
    const withSlow = await b.phase();
    // Every message above was acknowledged to the publisher; the slow session reads again.
    const missing = () => {
      const got = new Set(slow.seqs);
      const out: number[] = [];
      for (let i = first; i < first + N; i++) if (!got.has(i)) out.push(i);
      return out;
    };
    assert.ok(missing().length > 0, 'the reader was still behind when the publisher finished');
    slow.setPace('fast');
    await waitFor('every message at the persistent session', () => missing().length === 0, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${missing().length} missing, e.g. ${missing().slice(0, 5).join(', ')}`);
    });
    assert.equal(slow.closed, false, 'a session that keeps reading is not disconnected');
    assert.ok(
      lines(hub, /msg="client reads slowly: its QoS 1 messages wait in the session store" client=slowpersistent/).length >= 1,
      'the queue spilled to the store',
    );
    assertIsolated(base, await b.phase(), withSlow, 'a slow persistent subscriber');
    slow.close();
    await hub.stop();
  });

  it('a stalled persistent session, dropped at message.egress.drain.timeout, gets every acknowledged message when it reconnects', async () => {
    const hub = await startHubProcess({ config: openConfig(['tcp://127.0.0.1:0'], 'message:\n  egress:\n    drain:\n      timeout: 3s\n') });
    const b = await bench(hub);
    const stalled = await rawSubscriber(hub.url('tcp'), { clientId: 'comesback', filter: 'x/#', qos: 1, pace: 'stalled', clean: false, auth });
    const first = b.seq;
    await b.phase();
    await b.phase();
    const last = b.seq;
    await waitLogged(hub, 'the stalled session to be disconnected', () => lines(hub, /client closed: .*client=comesback/).length > 0, 60_000);
    stalled.close();
    assert.ok(lines(hub, /client reads slowly: .* client=comesback/).length >= 1, 'its messages waited in the store');
    const back = await rawSubscriber(hub.url('tcp'), { clientId: 'comesback', filter: 'x/#', qos: 1, pace: 'fast', clean: false, auth });
    const missing = () => {
      const got = new Set([...stalled.seqs, ...back.seqs]);
      const out: number[] = [];
      for (let i = first; i < last; i++) if (!got.has(i)) out.push(i);
      return out;
    };
    await waitFor('every message after the reconnect', () => missing().length === 0, 120_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${missing().length} of ${last - first} missing, e.g. ${missing().slice(0, 5).join(', ')}`);
    });
    back.close();
    await hub.stop();
  });

  it('a stalled QoS 0 subscriber is disconnected with one log line', async () => {
    const hub = await startHubProcess({
      config: openConfig(['tcp://127.0.0.1:0'], 'message:\n  egress:\n    drain:\n      timeout: 2s\n').replace('level: debug', 'level: info'),
    });
    const stalled = await rawSubscriber(hub.url('tcp'), { clientId: 'stalled0', filter: 'q/#', qos: 0, pace: 'stalled', auth });
    const pub = await connect(hub.url('tcp'), { ...auth, clientId: 'flood' });
    const body = Buffer.alloc(SIZE, 0x62);
    for (let i = 0; i < 20_000; i++) {
      pub.publish('q/0', body, { qos: 0 });
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitLogged(hub, 'the stalled QoS 0 subscriber to be disconnected', () => lines(hub, /client closed: .*client=stalled0/).length > 0, 60_000);
    stalled.close();
    await new Promise((r) => setTimeout(r, 1500));
    const closing = lines(hub, /client=stalled0/);
    assert.equal(closing.length, 1, `one line for the stalled client:\n${closing.join('\n')}`);
    assert.match(closing[0]!, /msg="client closed: drain timeout"/);
    await hub.stop();
  });
});
