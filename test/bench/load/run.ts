// One load run: publishers and subscribers on raw sockets, either as fast as the system absorbs
// (a window of messages in flight end to end) or at a fixed rate. Every message carries its send
// time, so latency is end to end; deliveries are counted per sequence number, so losses and
// duplicates are exact.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { RawClient, type Incoming } from '../wire/client.js';

export interface Codec {
  encode(seq: number, sentAt: number): Buffer;
  /** The sequence number and send time carried by an output, or null if the output is wrong. */
  decode(m: Incoming): { seq: number; sentAt: number } | null;
}

export interface LoadOptions {
  port: number;
  username?: string;
  password?: string;
  publishers: number;
  subscribers: number;
  pubTopic: string;
  subTopic: string;
  qos: 0 | 1;
  subQos: 0 | 1;
  codec: Codec;
  /** Deliveries each published message should produce (the number of subscribers for a fan-out). */
  expected?: number;
  /** Messages in flight (sent, not yet fully delivered) in windowed mode. */
  window?: number;
  /** Fixed publish rate in messages per second, instead of the window. */
  rate?: number;
  warmupMs: number;
  measureMs: number;
  /** Hard cap on messages sent (smoke runs). */
  maxMessages?: number;
  /** How long to wait for stragglers after publishing stops. */
  drainMs?: number;
  clientPrefix?: string;
  /**
   * Subscribers keep persistent sessions (clean session off), so the broker stores every QoS 1
   * message for them until its PUBACK. Each session is wiped (a clean connect) before and after the
   * run, so no run inherits another's queue or leaves a subscribed offline session behind.
   */
  persistentSubs?: boolean;
}

export interface LoadResult {
  sent: number;
  /** Deliveries per second during the measurement window. */
  rate: number;
  /** Publishes per second during the measurement window. */
  pubRate: number;
  p50: number;
  p99: number;
  lost: number;
  duplicates: number;
  wrong: number;
  /** The first few sequence numbers not delivered (for diagnosis). */
  lostSample: number[];
}

const MAX_SEQ = 4_000_000;

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const expected = o.expected ?? o.subscribers;
  const counts = new Uint16Array(MAX_SEQ);
  const lat = new Float64Array(MAX_SEQ);
  let nLat = 0;
  let delivered = 0;
  let wrong = 0;
  let seq = 0;
  let phase: 'warmup' | 'measure' | 'done' = 'warmup';
  let measuredDeliveries = 0;
  let measuredPublishes = 0;
  let pumpWaiting = false;
  const prefix = o.clientPrefix ?? 'bench';

  const onMessage = (m: Incoming) => {
    const d = o.codec.decode(m);
    if (!d || d.seq >= MAX_SEQ) {
      wrong++;
      return;
    }
    counts[d.seq]!++;
    delivered++;
    if (phase === 'measure') {
      measuredDeliveries++;
      if (nLat < MAX_SEQ) lat[nLat++] = performance.now() - d.sentAt;
    }
    if (pumpWaiting) pump();
  };

  const subs: RawClient[] = [];
  const wipeSessions = async () => {
    for (let i = 0; i < o.subscribers; i++) {
      const c = new RawClient({ port: o.port, clientId: `${prefix}-sub-${i}`, username: o.username, password: o.password });
      await c.connect();
      c.close();
    }
  };
  if (o.persistentSubs) await wipeSessions();
  for (let i = 0; i < o.subscribers; i++) {
    const c = new RawClient({
      port: o.port,
      clientId: `${prefix}-sub-${i}`,
      username: o.username,
      password: o.password,
      onMessage,
      persistent: o.persistentSubs,
    });
    await c.connect();
    const granted = await c.subscribe(o.subTopic, o.subQos);
    if (granted === 0x80) throw new Error(`subscription to ${o.subTopic} refused`);
    subs.push(c);
  }
  const pubs: RawClient[] = [];
  for (let i = 0; i < o.publishers; i++) {
    const c = new RawClient({ port: o.port, clientId: `${prefix}-pub-${i}`, username: o.username, password: o.password });
    await c.connect();
    pubs.push(c);
  }

  let rr = 0;
  const limit = o.maxMessages ?? MAX_SEQ;
  const sendOne = () => {
    const c = pubs[rr]!;
    rr = rr + 1 === pubs.length ? 0 : rr + 1;
    c.publish(o.pubTopic, o.codec.encode(seq, performance.now()), o.qos);
    seq++;
    if (phase === 'measure') measuredPublishes++;
  };
  const window = o.window ?? 1000;
  // Windowed mode: top the window up whenever a delivery frees a place.
  function pump(): void {
    pumpWaiting = false;
    while (phase !== 'done' && seq < limit && seq - delivered / expected < window) {
      if (pubs[rr]!.backlogged) {
        void pubs[rr]!.drain().then(pump);
        return;
      }
      sendOne();
    }
    pumpWaiting = phase !== 'done' && seq < limit;
  }

  let ticker: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  if (o.rate) {
    const interval = 1000 / o.rate;
    ticker = setInterval(() => {
      const due = Math.floor((performance.now() - t0) / interval);
      while (phase !== 'done' && seq < due && seq < limit) sendOne();
    }, 1);
  } else {
    pump();
  }
  await sleep(o.warmupMs);
  phase = 'measure';
  const m0 = performance.now();
  // A capped run (maxMessages) ends as soon as everything it sent has arrived.
  const allIn = () => o.maxMessages !== undefined && seq >= o.maxMessages && delivered >= seq * expected;
  while (performance.now() - m0 < o.measureMs && !allIn()) await sleep(Math.min(50, o.measureMs));
  const elapsed = (performance.now() - m0) / 1000;
  phase = 'done';
  if (ticker) clearInterval(ticker);

  // Stragglers: wait until every message is delivered or nothing arrives for a while.
  const drainMs = o.drainMs ?? 5000;
  let last = delivered;
  let quietSince = performance.now();
  while (delivered < seq * expected && performance.now() - quietSince < drainMs) {
    await sleep(50);
    if (delivered !== last) {
      last = delivered;
      quietSince = performance.now();
    }
  }
  for (const c of [...pubs, ...subs]) c.close();
  if (o.persistentSubs) await wipeSessions();

  let lost = 0;
  let duplicates = 0;
  const lostSample: number[] = [];
  for (let i = 0; i < seq; i++) {
    const c = counts[i]!;
    if (c < expected && lostSample.length < 20) lostSample.push(i);
    if (c < expected) lost += expected - c;
    else if (c > expected) duplicates += c - expected;
  }
  const sorted = lat.subarray(0, nLat).sort();
  return {
    sent: seq,
    rate: measuredDeliveries / elapsed,
    pubRate: measuredPublishes / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    lost,
    duplicates,
    wrong,
    lostSample,
  };
}

/** 64-byte binary payloads: send time (float64), sequence number (uint32), padding. */
export const binaryCodec = (size = 64): Codec => ({
  encode(seq, sentAt) {
    const b = Buffer.alloc(size);
    b.writeDoubleLE(sentAt, 0);
    b.writeUInt32LE(seq, 8);
    return b;
  },
  decode(m) {
    if (m.payload.length !== size) return null;
    return { sentAt: m.payload.readDoubleLE(0), seq: m.payload.readUInt32LE(8) };
  },
});

/**
 * JSON messages for the function pipelines: {"id":1,"n":<seq>,"ts":<send time>}. `check` says
 * whether an output is what the function should make of its input.
 */
export const jsonCodec = (check: (out: Record<string, unknown>) => boolean): Codec => ({
  encode(seq, sentAt) {
    return Buffer.from(`{"id":1,"n":${seq},"ts":${sentAt}}`);
  },
  decode(m) {
    let out: Record<string, unknown>;
    try {
      out = JSON.parse(m.payload.toString()) as Record<string, unknown>;
    } catch {
      return null;
    }
    if (typeof out.n !== 'number' || typeof out.ts !== 'number' || out.id !== 1 || !check(out)) return null;
    return { seq: out.n, sentAt: out.ts };
  },
});
