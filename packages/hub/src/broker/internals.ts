// The few aedes 1.2 internals the hub relies on, typed in one place. aedes is pinned to ~1.2.0
// in package.json because of them, and test/internals.test.ts fails when its version changes.
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AedesPublishPacket, Client } from 'aedes';
import mqttPacket from 'mqtt-packet';

export type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

export interface ClientInternals {
  id: string;
  clean: boolean;
  closed: boolean;
  /** Set once CONNECT is done, including aedes' replay of a persistent session's stored messages. */
  connected: boolean;
  /** The will aedes publishes when the connection ends without DISCONNECT. */
  will: unknown;
  subscriptions: Record<string, { qos: number }>;
  /** aedes' duplicate filter: the highest brokerCounter forwarded, per brokerId. */
  duplicates: Record<string, number>;
  deliver0: Deliver;
  deliverQoS: Deliver;
  /** mqtt-packet's parser; it emits 'packet' for each decoded packet. */
  _parser: EventEmitter;
}

export function internals(client: Client): ClientInternals {
  return client as unknown as ClientInternals;
}

/**
 * The brokerCounter the broker gives the next message published through it, unless the message
 * already carries one. aedes-packet's constructor takes `++broker.counter`, synchronously at the
 * start of broker.publish.
 */
export function nextBrokerCounter(broker: object): number {
  return (broker as { counter: number }).counter + 1;
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
