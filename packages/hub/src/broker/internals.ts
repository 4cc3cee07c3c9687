// Every aedes 1.2 internal the hub relies on, each behind one function here, with what it is and
// why no documented hook serves. Nothing else in src/ casts an aedes object. aedes is pinned to
// ~1.2.0 in package.json because of them, and test/internals.test.ts checks each one (and the
// version, against the lockfile): an aedes upgrade fails there first, by name, instead of as lost
// or stalled messages elsewhere.
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Aedes, AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import mqttPacket from 'mqtt-packet';

/** The aedes version these internals were checked against (test/internals.test.ts pins it). */
export const VERIFIED_AEDES_VERSION = '1.2.0';

export type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;
export type Callback = (err?: Error | null) => void;
/** aedes' broker.publish as its handlers call it: the publishing client (null for the broker's own) is the second argument. */
export type BrokerPublish = (packet: PublishPacket, client: Client | null, done: Callback) => void;

/** The undocumented fields of aedes' lib/client.js that the functions below read or replace. */
interface ClientFields {
  will: unknown;
  _will: { topic: string } | null;
  subscriptions: Record<string, { qos: number }>;
  duplicates: Record<string, number>;
  deliver0: Deliver;
  deliverQoS: Deliver;
  _parser: EventEmitter;
}

interface BrokerFields {
  clients: Record<string, Client>;
  counter: number;
  publish: (packet: PublishPacket, client?: Client | Callback | null, done?: Callback) => void;
}

const fields = (client: Client): ClientFields => client as unknown as ClientFields;
const brokerFields = (broker: Aedes): BrokerFields => broker as unknown as BrokerFields;

/**
 * The will a client sent in CONNECT, while authenticate runs. aedes passes authenticate only the
 * username and password; the will is on `client._will` until the connection is accepted (then
 * `client.will`). Baetyl refuses a CONNECT whose will the principal may not publish (CONNACK 5),
 * which needs it before the CONNACK; preConnect has the packet, but not yet the principal.
 */
export function pendingWill(client: Client): { topic: string } | null {
  return fields(client)._will ?? null;
}

/**
 * Forgets a connected client's will, so aedes does not publish it when the connection ends.
 * Baetyl discards wills when the hub stops; aedes has no option for that and publishes every
 * will of a client it closes (lib/client.js close()).
 */
export function discardWill(client: Client): boolean {
  const c = fields(client);
  if (!c.will) return false;
  c.will = null;
  return true;
}

/**
 * A client's granted subscriptions, filter -> QoS. aedes has no API to list them; the hub needs
 * them for the subscription count (stats, metrics) and for the best QoS among overlapping
 * filters (hooks/delivery.ts), which aedes works out per subscription, not per message.
 */
export function subscriptionsOf(client: Client): Readonly<Record<string, { qos: number }>> {
  return fields(client).subscriptions;
}

/**
 * Replaces a client's two deliver functions (QoS 0, QoS 1/2) with `wrap`'s result, which gets the
 * originals. aedes takes `client.deliver0` / `client.deliverQoS` when a subscription is made
 * (lib/handlers/subscribe.js), so this must run right after broker.handle() made the client.
 * No hook sees a message per subscriber: authorizeForward may only change or drop it, and cannot
 * hold it back or merge overlapping subscriptions; the hub's per-client queue needs both.
 */
export function replaceDeliver(client: Client, wrap: (original: { deliver0: Deliver; deliverQoS: Deliver }) => Deliver): void {
  const c = fields(client);
  const replacement = wrap({ deliver0: c.deliver0, deliverQoS: c.deliverQoS });
  c.deliver0 = replacement;
  c.deliverQoS = replacement;
}

/**
 * Makes aedes' duplicate filter pass `packet` on to the client. aedes drops a packet whose
 * brokerCounter is not above the highest one it forwarded to that client (`client.duplicates`,
 * per brokerId); the hub's queue writes stored packets in another order, and filters duplicates
 * itself (hooks/delivery.ts). aedes has no switch for its filter.
 */
export function passDuplicateFilter(client: Client, packet: AedesPublishPacket): void {
  if (packet.brokerId) fields(client).duplicates[packet.brokerId] = packet.brokerCounter - 1;
}

/**
 * Calls `listener` with each packet decoded from the client's socket, before aedes handles it.
 * Baetyl answers a SUBSCRIBE entry with an invalid filter with 0x80 for that entry; aedes closes
 * the connection (lib/handlers/subscribe.js validates before authorizeSubscribe runs), so the
 * filter is replaced here first. No hook sees a SUBSCRIBE before that check.
 */
export function beforeEachPacket(client: Client, listener: (packet: { cmd: string; subscriptions?: Subscription[] }) => void): void {
  fields(client)._parser.prependListener('packet', listener);
}

/** The connected clients, by id. aedes keeps them in `broker.clients` and exposes only their number. */
export function connectedClients(broker: Aedes): Iterable<Client> {
  return Object.values(brokerFields(broker).clients);
}

/**
 * The brokerCounter the broker gives the next message published through it, unless the message
 * already carries one. aedes-packet's constructor takes `++broker.counter`, synchronously at the
 * start of broker.publish. The hub's publish order (persistence/publish-order.ts) enters each
 * message under that number before aedes starts its store write; no hook runs that early.
 */
export function nextBrokerCounter(broker: Aedes): number {
  return brokerFields(broker).counter + 1;
}

/**
 * Replaces broker.publish, through which aedes sends every message: a client's PUBLISH
 * (lib/handlers/publish.js), a will (lib/client.js), and the broker's own. Returns the original.
 * The hub routes copies there (hooks/publish-with-routes.ts); the `published` hook runs after
 * the message went out, which is too late to number the copies in order, and a route's copy of
 * a QoS 1 message must be stored before the original is acknowledged.
 *
 * For a QoS 1 PUBLISH aedes calls authorizePublish(client, packet), then writes the PUBACK, then
 * calls broker.publish(packet, client, done) with the same packet object (test/internals.test.ts
 * checks both). A will goes to authorizePublish without `cmd` (see isClientPublish).
 */
export function replacePublish(broker: Aedes, replacement: (original: BrokerPublish) => BrokerPublish): void {
  const b = brokerFields(broker);
  const original: BrokerPublish = b.publish.bind(broker);
  const publish = replacement(original);
  b.publish = (packet, client, done) => {
    if (typeof client === 'function') return publish(packet, null, client);
    publish(packet, client ?? null, done ?? (() => undefined));
  };
}

/** authorizePublish is called for a client's PUBLISH (`cmd: 'publish'`) and for its will (no `cmd`). */
export function isClientPublish(packet: PublishPacket): boolean {
  return (packet as { cmd?: string }).cmd === 'publish';
}

/**
 * aedes emits 'error' when its store fails while a message is queued for offline sessions
 * (aedes.js DoEnqueues); an EventEmitter 'error' without a listener would end the process. Its
 * types list the other events only.
 */
export function onBrokerError(broker: Aedes, listener: (err: Error) => void): void {
  (broker as unknown as EventEmitter).on('error', listener);
}

interface MqttPacketWriter {
  writeToStream: { cacheNumbers: boolean };
}

/**
 * aedes writes every packet with mqtt-packet, whose number cache (a Buffer for each of the 65,536
 * two-byte values, 6 MB of heap for the life of the process) is made at the first write.
 * `writeToStream.cacheNumbers = false` (mqtt-packet's documented switch, which must be set before
 * any write) makes the two bytes per packet instead. The hub depends on the same mqtt-packet
 * version as aedes, so the package manager (and a bundle) gives both the one copy;
 * test/packet-writer.test.ts fails if aedes writes through another.
 */
export function aedesPacketWriter(): MqttPacketWriter {
  return mqttPacket as unknown as MqttPacketWriter;
}

/** The installed aedes' version (what internals.test.ts pins). */
export function aedesVersion(): string {
  const fromHere = createRequire(fileURLToPath(import.meta.resolve('aedes')));
  return (fromHere('./package.json') as { version: string }).version;
}
