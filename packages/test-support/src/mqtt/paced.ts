// Clients that pace their side of a flow: a raw-socket QoS 1 subscriber that reads never, at
// about 120 KB/s or as fast as it can (and acknowledges what it reads), and a publisher that
// keeps a window of QoS 1 messages in flight and measures each PUBACK's latency. Payloads
// carry their send time and a sequence number, so a receiver can tell order, loss and delay.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { connectPacket, packetReader, pubackPacket, rawConnect, readBytes, subscribePacket } from './raw.js';

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
export async function rawSubscriber(
  url: string,
  opts: { clientId: string; filter: string; qos: 0 | 1; pace: Pace; clean?: boolean; auth: { username: string; password: string } },
): Promise<RawSubscriber> {
  const s = await rawConnect(url);
  s.on('error', () => undefined);
  s.write(connectPacket({ clientId: opts.clientId, ...opts.auth, clean: opts.clean ?? true }));
  const connack = await readBytes(s, 4);
  if (connack[0] !== 0x20 || connack[3] !== 0) throw new Error(`CONNACK ${connack.toString('hex')}`);
  s.write(subscribePacket(1, [opts.filter], opts.qos));
  // Messages already stored for a persistent session may follow the SUBACK in the same read.
  const first = await readBytes(s, 5);
  if (first[0] !== 0x90) throw new Error(`SUBACK expected, got ${first.subarray(0, 5).toString('hex')}`);
  let timer: NodeJS.Timeout | undefined;
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
  const reader = packetReader((p) => {
    if (p.cmd !== 'publish') return;
    if (p.qos > 0) s.write(pubackPacket(p.messageId!));
    sub.seqs.push(seqOf(p.payload as Buffer));
  });
  const onData = (c: Buffer) => reader.feed(c);
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
        if (c) reader.feed(c);
      }, SLOW_TICK_MS);
    }
  };
  reader.feed(first.subarray(5));
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

export function seqOf(p: Buffer): number {
  return p.readUInt32BE(8);
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
