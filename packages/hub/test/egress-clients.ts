// Clients for the egress tests: a raw-socket QoS 1 subscriber that reads at a chosen pace (never,
// about 120 KB/s, or as fast as it can) and acknowledges what it reads, and a paced publisher
// that measures PUBACK and delivery latencies.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { connectPacket, rawConnect, readBytes, subscribePacket } from './raw.js';

export type Pace = 'stalled' | 'slow' | 'fast';

export interface RawSubscriber {
  socket: net.Socket;
  /** Sequence numbers of the messages received (duplicates included). */
  seqs: number[];
  closed: boolean;
  setPace(pace: Pace): void;
  close(): void;
}

/** Bytes read per tick by a slow reader: 6 KB every 50 ms, about 120 KB/s. */
const SLOW_CHUNK = 6 * 1024;
const SLOW_TICK_MS = 50;

/** Connects, subscribes to `filter` at `qos`, then reads at `pace`, acknowledging each QoS 1 message. */
export async function rawSubscriber(url: string, opts: { clientId: string; filter: string; qos: 0 | 1; pace: Pace; clean?: boolean; auth: { username: string; password: string } }): Promise<RawSubscriber> {
  const s = await rawConnect(url);
  s.on('error', () => undefined);
  s.write(connectPacket({ clientId: opts.clientId, ...opts.auth, clean: opts.clean ?? true }));
  const connack = await readBytes(s, 4);
  if (connack[0] !== 0x20 || connack[3] !== 0) throw new Error(`CONNACK ${connack.toString('hex')}`);
  s.write(subscribePacket(1, [opts.filter], opts.qos));
  // Messages already stored for a persistent session may follow the SUBACK in the same read.
  let buf = await readBytes(s, 5);
  if (buf[0] !== 0x90) throw new Error(`SUBACK expected, got ${buf.subarray(0, 5).toString('hex')}`);
  buf = buf.subarray(5);
  const sub: RawSubscriber = {
    socket: s,
    seqs: [],
    closed: false,
    setPace: (p) => setPace(p),
    close: () => {
      clearInterval(timer);
      s.destroy();
    },
  };
  s.on('close', () => {
    sub.closed = true;
    clearInterval(timer);
  });
  const consume = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) return;
      let len = 0;
      let mul = 1;
      let at = 1;
      for (;;) {
        if (at >= buf.length) return;
        const b = buf[at++]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      if (buf.length < at + len) return;
      const type = buf[0]! >> 4;
      const qos = (buf[0]! >> 1) & 3;
      const body = buf.subarray(at, at + len);
      buf = buf.subarray(at + len);
      if (type !== 3) continue;
      const topicLen = body.readUInt16BE(0);
      let off = 2 + topicLen;
      if (qos > 0) {
        const id = body.readUInt16BE(off);
        off += 2;
        s.write(Buffer.from([0x40, 0x02, id >> 8, id & 0xff]));
      }
      sub.seqs.push(body.readUInt32BE(off + 8));
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const onData = (c: Buffer) => consume(c);
  const setPace = (pace: Pace) => {
    clearInterval(timer);
    s.off('data', onData);
    s.pause();
    if (pace === 'fast') {
      s.on('data', onData);
      s.resume();
    } else if (pace === 'slow') {
      timer = setInterval(() => {
        const c = (s.read(SLOW_CHUNK) ?? s.read()) as Buffer | null;
        if (c) consume(c);
      }, SLOW_TICK_MS);
    }
  };
  if (buf.length) {
    const rest = buf;
    buf = Buffer.alloc(0);
    consume(rest);
  }
  setPace(opts.pace);
  return sub;
}

/** A message's payload: the send time (performance.now()), its sequence number, then filler. */
export function payload(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, 0x61);
  b.writeDoubleBE(performance.now(), 0);
  b.writeUInt32BE(seq, 8);
  return b;
}

export function sentAt(p: Buffer): number {
  return p.readDoubleBE(0);
}

export function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? NaN;
}

/**
 * Publishes `n` QoS 1 messages on `topic`, at most `window` awaiting their PUBACK at a time, and
 * resolves with each message's PUBACK latency (ms).
 */
export async function publishPaced(pub: MqttClient, topic: string, firstSeq: number, n: number, size: number, window = 20): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await new Promise<void>((ok, fail) => {
    let inFlight = 0;
    const send = () => {
      while (inFlight < window && next < n) {
        const seq = firstSeq + next++;
        inFlight++;
        const t = performance.now();
        pub.publish(topic, payload(seq, size), { qos: 1 }, (err) => {
          if (err) return fail(err);
          latencies.push(performance.now() - t);
          inFlight--;
          if (latencies.length === n) ok();
          else send();
        });
      }
    };
    send();
  });
  return latencies;
}
