// aedes' deliver functions, replaced: how a message reaches one client. aedes calls them for each
// matching subscription; here each copy is filtered (one copy per message, at the best QoS
// granted) and put on the client's own EgressQueue (src/egress), and aedes is told at once that
// the delivery is done. aedes' shared delivery concurrency therefore never waits on one socket.
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import { topicMatches } from '@baetyl/core/topic';
import { EgressQueue, type EgressLimits, type EgressSink } from '../../egress/queue.js';
import type { Store } from '../../persistence/store.js';
import { dropConnection, type ConnectionStep, type HubContext } from '../context.js';
import { passDuplicateFilter, replaceDeliver, subscriptionsOf, type Deliver } from '../internals.js';

/** Deliveries per client remembered by the duplicate filter (see filterDuplicates). */
const RECENT = 4096;

interface DeliveryHooks {
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

/**
 * The connection step that gives each client its queue, and the broker's 'clientReady' (CONNACK
 * sent, a resumed session's stored messages replayed) that starts it.
 */
export function queueDeliveries(ctx: HubContext, broker: Aedes): ConnectionStep {
  const maxPacket = ctx.config.message.length.max;
  const egress = ctx.config.message.egress;
  const hooks: DeliveryHooks = {
    brokerId: broker.id,
    store: ctx.store,
    // bytes.max is at least message.length.max, so that a message of any accepted size can wait.
    limits: {
      qos0Messages: egress.qos0.buffer.size,
      qos1Messages: egress.qos1.buffer.size,
      batch: egress.qos1.batch.max,
      bytes: Math.max(egress.bytes.max, maxPacket),
    },
    dropped: (qos, reason, count = 1) => {
      ctx.counters.dropped[reason][Math.min(qos, 2)]! += count;
    },
    overflow: dropConnection,
    spilling: (cl) => ctx.closings.log('debug', 'client reads slowly: its QoS 1 messages wait in the session store', ctx.clients.logFields(cl)),
  };
  broker.on('clientReady', (client) => egressOf(client)?.pump());
  return (client) => replaceDeliver(client, (aedes) => queueing(client, aedes, hooks));
}

/** The deliver function of a client that was just created; `aedes` holds its own, which write to the socket. */
function queueing(client: Client, aedes: { deliver0: Deliver; deliverQoS: Deliver }, hooks: DeliveryHooks): Deliver {
  const { deliver0, deliverQoS } = aedes;
  let queue: EgressQueue | undefined;
  const isDuplicate = duplicateFilter(hooks.brokerId);

  // Made on the first delivery: an idle connection costs nothing here.
  const queueOf = (): EgressQueue => {
    if (queue) return queue;
    queue = new EgressQueue(
      {
        persistent: !client.clean,
        write: (packet, done) => {
          // aedes' own duplicate filter must let this packet through (see duplicateFilter).
          passDuplicateFilter(client, packet);
          if (packet.qos === 0) deliver0(packet, done);
          else deliverQoS(packet, done);
        },
        ready: () => client.connected,
        closed: () => client.closed,
        readStored: (limit) => readUnsent(hooks.store, client, limit, effectiveQos),
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
    const subs = subscriptionsOf(client);
    for (const filter in subs) {
      const qos = subs[filter]!.qos;
      if (qos > best && topicMatches(filter, packet.topic)) best = qos;
    }
    return Math.min(packet.qos, best);
  };

  return (packet, cb) => {
    if (isDuplicate(packet)) return process.nextTick(cb);
    const q = effectiveQos(packet);
    packet.qos = q as 0 | 1 | 2;
    queueOf().push(packet);
    // Accepted: aedes may go on at once. nextTick, not setImmediate: one event-loop turn per
    // delivery cost the hub 10-15% of its 1 -> 1 throughput (make bench, same session).
    process.nextTick(cb);
  };
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
async function readUnsent(store: Store, c: Client, limit: number, qosOf: (p: AedesPublishPacket) => number): Promise<AedesPublishPacket[]> {
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
    stream.destroy();
  }
  return out;
}
