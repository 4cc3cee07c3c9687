// The few aedes 1.2 internals the hub relies on, typed in one place. aedes is pinned to ~1.2.0
// in package.json because of them.
import type { EventEmitter } from 'node:events';
import type { AedesPublishPacket, Client } from 'aedes';

export type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

export interface ClientInternals {
  id: string;
  clean: boolean;
  closed: boolean;
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
