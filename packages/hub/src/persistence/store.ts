// The hub's embedded store: aedes-persistence-level on LevelDB (level 10) under storage.dir.
// Sessions, their subscriptions, queued QoS 1 messages, retained messages and wills live here.
// LevelDB appends every write to its log with write(2) before the promise resolves, so what
// the hub has acknowledged survives the process being killed (kill -9). The writes of one
// event-loop turn go to LevelDB as one batch (turn-batch.ts).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import AsyncLevelPersistence from 'aedes-persistence-level/asyncPersistence.js';
import { Level } from 'level';
import { NOTHING, PublishOrder } from './publish-order.js';
import { TurnBatchedLevel, type LevelBackend } from './turn-batch.js';

/**
 * aedes looks up every PUBACK in the store (a LevelDB read) to clear the in-flight message, even
 * for clean sessions, whose in-flight messages it never stores: at QoS 1 that read cost more than
 * the rest of the hub's work. A clean session's PUBACK only needs the store if messages queued by
 * an earlier persistent session with the same client id are still there, so that is checked once
 * per connection, and the reads are skipped while there are none.
 */
export class HubPersistence extends AsyncLevelPersistence {
  private readonly cleanAndEmpty = new WeakSet<object>();
  /** Subscriptions stored by storeBeforeGrant, and those restored from the store at CONNECT. */
  private readonly stored = new WeakSet<object>();
  /** Messages leave their store write in the order they entered the broker (publish-order.ts). */
  readonly order = new PublishOrder();
  /** Per session: the last outgoingUpdate, which the next one resolves after. */
  private readonly updates = new WeakMap<object, Promise<void>>();

  /**
   * Stores a persistent session's subscription before it is granted; throws when the store cannot
   * take it (a full disk), and then the subscription is not kept anywhere, so the hub answers 0x80
   * and no grant is lost by a restart. aedes would grant it in memory after a failed write, or drop
   * the connection. Clean sessions and subscriptions restored at CONNECT are not written.
   * `granted` is the session's subscriptions in aedes (broker/internals.ts, subscriptionsOf).
   */
  async storeBeforeGrant(
    client: { id: string; clean?: boolean },
    sub: { topic: string; qos: number },
    granted: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    if (client.clean || this.stored.has(sub)) return;
    try {
      await super.addSubscriptions(client, [sub]);
      this.stored.add(sub);
    } catch (err) {
      // addSubscriptions put it in the in-memory index (which queues messages for the offline
      // session) before the write failed: take it out, unless it was there before this SUBSCRIBE.
      if (!granted[sub.topic]) await super.removeSubscriptions(client, [sub.topic]).catch(() => undefined);
      throw err;
    }
  }

  /** aedes stores every entry of a SUBSCRIBE here after granting; those stored before are skipped. */
  override async addSubscriptions(client: { id: string }, subs: Array<{ topic: string; qos: number }>) {
    const rest = subs.filter((s) => !this.stored.has(s));
    if (rest.length) await super.addSubscriptions(client, rest);
  }

  override async subscriptionsByClient(client: { id: string }) {
    const subs = await super.subscriptionsByClient(client);
    for (const s of subs) this.stored.add(s);
    return subs;
  }

  /**
   * The sessions to queue a message for while they are offline. aedes-persistence-level 9.2's
   * index also holds QoS 0 subscriptions whose filter another client's subscription matches, and
   * a QoS 0 subscriber would then get stored QoS 1 copies, replayed at QoS 1 on each reconnect.
   * MQTT queues nothing for QoS 0 (MQTT-3.1.2-5): only QoS 1 and 2 subscriptions are returned.
   */
  override async subscriptionsByTopic(pattern: string) {
    return (await super.subscriptionsByTopic(pattern)).filter((s) => s.qos > 0);
  }

  override outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: { brokerCounter: number }) {
    return this.order.after(packet.brokerCounter, !subs || subs.length === 0 ? NOTHING : super.outgoingEnqueueCombi(subs, packet));
  }

  /**
   * aedes gives a persistent session's message its packet id here, then writes it to the socket.
   * Each session's updates resolve in the order they were asked for, so that its messages keep
   * their order on the socket (MQTT-4.6.0-6) although LevelDB may finish the writes in any order.
   */
  override outgoingUpdate(client: { id: string }, packet: object) {
    const write = super.outgoingUpdate(client, packet);
    const previous = this.updates.get(client);
    const ordered = previous ? previous.then(() => write) : write;
    this.updates.set(
      client,
      ordered.then(
        () => undefined,
        () => undefined,
      ),
    );
    return ordered;
  }

  /**
   * The stored messages aedes sends a resumed session. One with a packet id was sent before, and
   * MQTT says a resend carries DUP 1 (MQTT-3.3.1-1); aedes resends it as stored, with DUP 0.
   */
  override outgoingStream(client: { id: string }) {
    const source = super.outgoingStream(client);
    return Readable.from(
      (async function* resends() {
        try {
          for await (const packet of source as AsyncIterable<{ messageId?: number }>) yield packet.messageId ? { ...packet, dup: true } : packet;
        } finally {
          source.destroy();
        }
      })(),
    );
  }

  override async outgoingClearMessageId(client: { id: string; clean?: boolean }, packet: { messageId?: number }) {
    if (client.clean && this.cleanAndEmpty.has(client)) return undefined;
    const found = await super.outgoingClearMessageId(client, packet);
    if (client.clean && found === undefined && !(await this.hasOutgoing(client))) this.cleanAndEmpty.add(client);
    return found;
  }

  /** Retained messages in the store, for the metrics: a scan of the retained keys, once per report. */
  async countRetained(): Promise<number> {
    const stream = this.createRetainedStream('#');
    let n = 0;
    try {
      for await (const _ of stream) n++;
    } finally {
      stream.destroy();
    }
    return n;
  }

  private async hasOutgoing(client: { id: string }): Promise<boolean> {
    const stream = super.outgoingStream(client);
    try {
      for await (const _ of stream) return true;
      return false;
    } finally {
      stream.destroy();
    }
  }
}

export interface Store {
  dir: string;
  persistence: HubPersistence;
  /** The database the persistence writes through, batched per turn. */
  db: TurnBatchedLevel;
  close(): Promise<void>;
}

export async function openStore(storageDir: string, cwd: string): Promise<Store> {
  const dir = join(resolve(cwd, storageDir), 'hub');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new Error(`storage.dir: cannot create ${dir}: ${(err as Error).message}`);
  }
  const db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
    const locked = /lock/i.test(cause);
    throw new Error(`storage.dir: cannot open the store in ${dir}: ${cause}${locked ? ' (is another hub using this storage.dir?)' : ''}`);
  }
  const batched = new TurnBatchedLevel(db as unknown as LevelBackend);
  const persistence = new HubPersistence(batched);
  return {
    dir,
    persistence,
    db: batched,
    async close() {
      await batched.close();
    },
  };
}
