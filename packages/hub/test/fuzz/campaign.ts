// A fuzz campaign against a running hub: many short connections send valid and mutated packets
// while one healthy client does QoS 1 round trips through the hub. Each connection draws from a
// PRNG seeded from the run's seed and the connection's number, so a seed replays the run.
import { setTimeout as sleep } from 'node:timers/promises';
import type net from 'node:net';
import { mutate } from './mutate.js';
import { connect as connectPacket, other } from './packets.js';
import { Random } from './random.js';
import { connect, OPEN_AUTH, openConfig, rawConnect, subscribe, type HubProcess } from '@baetyl/test-support';

export interface FuzzOptions {
  seed: number;
  /** Packets to send in all, valid and mutated (those written whole count). */
  packets: number;
  /** Connections open at once. */
  concurrency?: number;
  /** The longest a healthy round trip may take, in ms (a liveness bound, not a speed goal). */
  boundMs?: number;
}

export interface FuzzResult {
  seed: number;
  packets: number;
  connections: number;
  /** Connections the hub closed before the fuzzer was done with them. */
  closedByHub: number;
  roundTrips: number;
  maxRoundTripMs: number;
  /** What went wrong; empty when the hub held. */
  problems: string[];
}

const AUTH = OPEN_AUTH;
const HEALTHY_TOPIC = 'healthy/rt';

/** A hub service.yml for fuzzing: one principal allowed everything, info-level logs. */
export function fuzzHubConfig(): string {
  return openConfig(['tcp://127.0.0.1:0'], '', 'info');
}

/** The packets of connection `n`: a CONNECT first (mostly valid), then a few of any kind. */
function sessionPackets(seed: number, n: number): { packets: Buffer[]; random: Random } {
  const r = new Random((seed ^ Math.imul(n + 1, 0x9e3779b9)) >>> 0);
  const first = connectPacket(r, `fuzz${n}`);
  const packets = [r.chance(0.85) ? first : r.chance(0.5) ? mutate(r, first) : other(r)];
  const more = r.int(15);
  for (let i = 0; i < more; i++) packets.push(r.chance(0.7) ? other(r) : mutate(r, r.chance(0.15) ? connectPacket(r, `fuzz${n}`) : other(r)));
  return { packets, random: r };
}

/**
 * Sends one connection's packets, in writes that split or join them at random. Resolves with
 * how many packets were written whole, and whether the hub closed the connection first.
 */
async function runSession(url: string, packets: Buffer[], r: Random): Promise<{ written: number; byHub: boolean }> {
  let s: net.Socket;
  try {
    s = await rawConnect(url);
  } catch {
    return { written: 0, byHub: false };
  }
  let closed = false;
  const done = new Promise<void>((ok) => s.once('close', () => ok()));
  s.on('close', () => (closed = true));
  s.on('data', () => undefined); // read what the hub sends, so it never waits on us
  s.on('error', () => undefined);
  const ends: number[] = [];
  let total = 0;
  for (const p of packets) ends.push((total += p.length));
  const bytes = Buffer.concat(packets);
  let at = 0;
  while (at < bytes.length && !closed) {
    const len = r.chance(0.7) ? bytes.length - at : 1 + r.int(bytes.length - at);
    s.write(bytes.subarray(at, at + len));
    at += len;
    if (r.chance(0.3)) await sleep(r.int(5));
    else await new Promise((ok) => setImmediate(ok));
  }
  await Promise.race([done, sleep(30)]);
  const byHub = closed;
  if (!closed) {
    if (r.chance(0.5)) s.end();
    else s.destroy();
  }
  return { written: ends.filter((e) => e <= at).length, byHub };
}

interface Healthy {
  roundTrips: number;
  max: number;
  problems: string[];
  stop(): Promise<void>;
}

/** QoS 1 round trips (publish, receive on its own subscription) until stopped. */
async function healthyClient(url: string, boundMs: number): Promise<Healthy> {
  const c = await connect(url, { ...AUTH, clientId: 'fuzz-healthy-client', keepalive: 30 });
  await subscribe(c, HEALTHY_TOPIC, 1);
  const h: Healthy = { roundTrips: 0, max: 0, problems: [], stop: async () => undefined };
  const waiting = new Map<string, () => void>();
  c.on('message', (_topic, payload) => {
    const w = waiting.get(payload.toString());
    if (w) {
      waiting.delete(payload.toString());
      w();
    }
  });
  let stopping = false;
  c.on('close', () => {
    if (!stopping) h.problems.push('the healthy client was disconnected');
  });
  const loop = (async () => {
    for (let seq = 1; !stopping && c.connected; seq++) {
      const key = `rt-${seq}`;
      const start = performance.now();
      const received = new Promise<void>((ok) => waiting.set(key, ok));
      const trip = Promise.all([c.publishAsync(HEALTHY_TOPIC, key, { qos: 1 }), received]);
      const timedOut = await Promise.race([trip.then(() => false), sleep(boundMs * 2).then(() => true)]);
      const took = performance.now() - start;
      h.max = Math.max(h.max, took);
      h.roundTrips++;
      if (timedOut) h.problems.push(`a healthy round trip did not complete within ${boundMs * 2} ms`);
      else if (took > boundMs) h.problems.push(`a healthy round trip took ${Math.round(took)} ms (bound ${boundMs} ms)`);
      await sleep(2);
    }
  })();
  h.stop = async () => {
    stopping = true;
    await loop;
    c.end(true);
  };
  return h;
}

export async function fuzzHub(hub: HubProcess, opts: FuzzOptions): Promise<FuzzResult> {
  const url = hub.url('tcp');
  const boundMs = opts.boundMs ?? 5000;
  const concurrency = opts.concurrency ?? 12;
  const healthy = await healthyClient(url, boundMs);
  let sent = 0;
  let next = 0;
  let closedByHub = 0;
  const running = new Set<number>();
  let exitedDuring: number[] | undefined;
  void hub.exited.then(() => (exitedDuring ??= [...running]));
  const worker = async () => {
    while (sent < opts.packets && exitedDuring === undefined) {
      const n = next++;
      const { packets, random } = sessionPackets(opts.seed, n);
      running.add(n);
      const { written, byHub } = await runSession(url, packets, random);
      running.delete(n);
      sent += written;
      if (byHub) closedByHub++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await healthy.stop();
  const problems = [...new Set(healthy.problems)];
  if (exitedDuring !== undefined || hub.proc.exitCode !== null || hub.proc.signalCode !== null) {
    problems.push(
      `the hub exited (${hub.proc.exitCode ?? hub.proc.signalCode}) while connections ${(exitedDuring ?? []).join(', ')} were running; its output ends with:\n${hub.output().slice(-3000)}`,
    );
  } else {
    problems.push(...(await stillAccepting(url, boundMs)));
  }
  const bad = hub
    .output()
    .split('\n')
    .filter((l) => /level=error|Uncaught|TypeError|RangeError/.test(l));
  if (bad.length) problems.push(`the hub logged errors:\n${bad.slice(0, 5).join('\n')}`);
  return { seed: opts.seed, packets: sent, connections: next, closedByHub, roundTrips: healthy.roundTrips, maxRoundTripMs: Math.round(healthy.max), problems };
}

/** A new client connects and does a round trip after the campaign. */
async function stillAccepting(url: string, boundMs: number): Promise<string[]> {
  try {
    const h = await healthyClient(url, boundMs);
    await sleep(50);
    await h.stop();
    return h.roundTrips > 0 ? h.problems : ['a new client did no round trip after the fuzzing'];
  } catch (err) {
    return [`a new client could not connect after the fuzzing: ${(err as Error).message}`];
  }
}
