// End-to-end QoS 1 for a service that passes a message on (the function manager publishes a
// function's result, remote-mqtt forwards a copy to another broker): the incoming message is
// acknowledged only once the service is done with it, on the connection that delivered it.
//
// Built on MQTT.js' documented handleMessage(packet, callback): called for every incoming
// PUBLISH, one at a time, and the next packet is read when `callback` is called (that is
// back-pressure). Skipping MQTT.js' own PUBACK and writing the service's is not documented: those
// steps are in internals.ts (why customHandleAcks does not serve is there too), pinned by
// test/mqtt-internals.test.ts; test/deferred-ack.test.ts checks the whole against a raw server.
import type { Duplex } from 'node:stream';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { connectionOf, SKIP_PUBACK, writePuback } from './internals.js';

/** One incoming message, whose acknowledgement is the service's to send. */
export interface Delivery {
  readonly packet: IPublishPacket;
  /** The connection it came on. */
  readonly connection: Duplex;
  /**
   * That connection has closed or been replaced: an ack would go nowhere. With a kept session
   * the broker delivers the message again on the next connection.
   */
  readonly stale: boolean;
  /** QoS 1: writes the PUBACK on the delivering connection; false when it is gone. Settles it. */
  ack(): boolean;
  /** Done without an acknowledgement (the broker redelivers it on the next session); no-op once acked. */
  settle(): void;
}

/**
 * Receives each message; calls `next()` when it is ready for the next one (holding it holds the
 * socket: the broker keeps the rest), and later `delivery.ack()` or `delivery.settle()`.
 */
export type DeliveryHandler = (delivery: Delivery, next: () => void) => void;

export interface DeferAcksOptions {
  /**
   * A QoS 1 message sent again on the same connection while its first copy is still being
   * handled: not handed over a second time, as the first copy's PUBACK answers both.
   */
  onDuplicate?: (packet: IPublishPacket) => void;
}

/** Takes over the acknowledgement of `client`'s incoming messages. Call before it connects. */
export function deferAcks(client: MqttClient, handler: DeliveryHandler, opts: DeferAcksOptions = {}): void {
  // QoS 1 packet ids being handled, per connection (packet ids are per session and connection).
  const inProgress = new WeakMap<Duplex, Set<number>>();
  client.handleMessage = (packet, callback) => {
    const later = packet.qos > 0 ? SKIP_PUBACK : undefined;
    const connection = connectionOf(client);
    const id = packet.qos > 0 ? packet.messageId : undefined;
    let ids: Set<number> | undefined;
    if (id !== undefined) {
      ids = inProgress.get(connection) ?? new Set<number>();
      inProgress.set(connection, ids);
      if (ids.has(id)) {
        opts.onDuplicate?.(packet);
        callback(later);
        return;
      }
      ids.add(id);
    }
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (id !== undefined) ids!.delete(id);
    };
    const delivery: Delivery = {
      packet,
      connection,
      get stale() {
        return connection !== connectionOf(client) || connection.destroyed || !connection.writable;
      },
      ack() {
        if (settled) return false;
        settle();
        if (id === undefined) return true;
        if (delivery.stale) return false;
        writePuback(connection, id);
        return true;
      },
      settle,
    };
    let released = false;
    handler(delivery, () => {
      if (released) return;
      released = true;
      callback(later);
    });
  };
}
