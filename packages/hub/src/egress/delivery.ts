// How a message reaches one client: aedes calls the client's deliver functions for each matching
// subscription; here each copy is filtered (one copy per message, at the best QoS granted) and put
// on the client's own EgressQueue, and aedes is told at once that the delivery is done. aedes'
// shared delivery concurrency therefore never waits on one client's socket.
import type { AedesPublishPacket, Client } from 'aedes';
import { topicMatches } from '@baetyl/core/topic';
import { internals, type ClientInternals, type Deliver } from '../broker/internals.js';
import type { Store } from '../persistence/store.js';
import { EgressQueue, type EgressLimits, type EgressSink } from './queue.js';

/** Deliveries per client remembered by the duplicate filter (see filterDuplicates). */
const RECENT = 4096;

export interface DeliveryHooks {
  brokerId: string;
  store: Store;
  limits: EgressLimits;
  dropped: EgressSink['dropped'];
  /** The client passed a bound: it is disconnected with this reason (logged by the caller). */
  overflow(client: Client, why: string): void;
  spilling(client: Client): void;
}

const queues = new WeakMap<Client, EgressQueue>();

/** The queue of a client, if anything was ever delivered to it. */
export function egressOf(client: Client): EgressQueue | undefined {
  return queues.get(client);
}

/** Replaces aedes' deliver functions of a client that was just created. */
export function shapeDelivery(client: Client, hooks: DeliveryHooks): void {
  const c = internals(client);
  const deliver0 = c.deliver0;
  const deliverQoS = c.deliverQoS;
  let queue: EgressQueue | undefined;
  const isDuplicate = duplicateFilter(hooks.brokerId);

  // Made on the first delivery: an idle connection costs nothing here.
  const queueOf = (): EgressQueue => {
    if (queue) return queue;
    queue = new EgressQueue(
      {
        persistent: !c.clean,
        write: (packet, done) => {
          // aedes' own duplicate filter must let this packet through (see duplicateFilter).
          if (packet.brokerId) c.duplicates[packet.brokerId] = packet.brokerCounter - 1;
          if (packet.qos === 0) deliver0(packet, done);
          else deliverQoS(packet, done);
        },
        ready: () => c.connected,
        closed: () => c.closed,
        readStored: (limit) => readUnsent(hooks.store, c, limit, effectiveQos),
        dropped: hooks.dropped,
        overflow: (why) => hooks.overflow(client, why),
        spilling: () => hooks.spilling(client),
      },
      hooks.limits,
    );
    queues.set(client, queue);
    return queue;
  };

  // One copy per message even with overlapping filters, at the highest QoS they grant.
  const effectiveQos = (packet: AedesPublishPacket): number => {
    if (packet.qos === 0) return 0;
    let best = 0;
    const subs = c.subscriptions;
    for (const filter in subs) {
      const qos = subs[filter]!.qos;
      if (qos > best && topicMatches(filter, packet.topic)) best = qos;
    }
    return Math.min(packet.qos, best);
  };

  const route: Deliver = (packet, cb) => {
    if (isDuplicate(packet)) return process.nextTick(cb);
    const q = effectiveQos(packet);
    packet.qos = q as 0 | 1 | 2;
    queueOf().push(packet);
    // Accepted: aedes may go on at once. nextTick, not setImmediate: one event-loop turn per
    // delivery cost the hub 10-15% of its 1 -> 1 throughput (make bench, same session).
    process.nextTick(cb);
  };
  c.deliver0 = route;
  c.deliverQoS = route;
}

/**
 * aedes drops a packet whose brokerCounter is not above the highest one forwarded to the client
 * (its duplicate filter for overlapping subscriptions). With the LevelDB store, the per-packet
 * writes for persistent sessions finish out of order, so packets reach a client out of counter
 * order, and aedes silently dropped the earlier ones (QoS 1 losses, seen by the benchmarks).
 * Duplicates are filtered here by exact (brokerId, counter) instead, among the recent ones, and
 * aedes' filter is told, as each packet is written, that it is the next one. Keys are the bare counter for this broker's
 * own packets (no string per message); the ring of the last RECENT keys grows with use, so an
 * idle client holds none.
 */
function duplicateFilter(brokerId: string): (packet: AedesPublishPacket) => boolean {
  let recent: Set<number | string> | undefined;
  let ring: Array<number | string> | undefined;
  let ringAt = 0;
  return (packet) => {
    if (!packet.brokerId) return false;
    const key = packet.brokerId === brokerId ? packet.brokerCounter : `${packet.brokerId}:${packet.brokerCounter}`;
    recent ??= new Set();
    ring ??= [];
    if (recent.has(key)) return true;
    if (ring.length < RECENT) ring.push(key);
    else {
      recent.delete(ring[ringAt]!);
      ring[ringAt] = key;
      ringAt = (ringAt + 1) % RECENT;
    }
    recent.add(key);
    return false;
  };
}

interface StoredPacket {
  cmd?: string;
  topic: string;
  payload: Buffer | Uint8Array;
  qos: number;
  messageId?: number;
  brokerId: string;
  brokerCounter: number;
}

/** The session's stored messages that were never sent (no packet id yet), oldest first. */
async function readUnsent(store: Store, c: ClientInternals, limit: number, qosOf: (p: AedesPublishPacket) => number): Promise<AedesPublishPacket[]> {
  const out: AedesPublishPacket[] = [];
  const stream = store.persistence.outgoingStream({ id: c.id });
  try {
    for await (const raw of stream as AsyncIterable<StoredPacket>) {
      if (raw.messageId && raw.messageId > 0) continue;
      const packet = {
        cmd: 'publish',
        topic: raw.topic,
        payload: Buffer.isBuffer(raw.payload) ? raw.payload : Buffer.from(raw.payload),
        qos: raw.qos,
        retain: false,
        dup: false,
        brokerId: raw.brokerId,
        brokerCounter: raw.brokerCounter,
      } as AedesPublishPacket;
      // A stored message needs an acknowledgement to leave the store: never below QoS 1.
      packet.qos = Math.max(1, Math.min(raw.qos, qosOf(packet) || raw.qos)) as 1 | 2;
      out.push(packet);
      if (out.length >= limit) break;
    }
  } finally {
    (stream as unknown as { destroy(): void }).destroy();
  }
  return out;
}
