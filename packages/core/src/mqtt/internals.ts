// Every MQTT.js 5 internal the services rely on (deferAcks, the reconnect back-off, the function
// manager's rule), each behind one function here, with what it is and why no documented API
// serves. Nothing else casts an MqttClient. test/mqtt-internals.test.ts pins each one, and the
// version, against the lockfile and a raw MQTT 3.1.1 server on a real socket: an upgrade that
// changes them fails there first, by name.
//
// What MQTT.js documents and the services use as documented: handleMessage(packet, callback)
// (called for every incoming PUBLISH, one at a time; the next packet is read when `callback` is
// called), the 'packetsend' event, removeOutgoingMessage(id), and the reconnectPeriod option.
// customHandleAcks would answer a PUBACK's reason code, but MQTT.js uses it only for MQTT 5
// (the services speak 3.1.1), and its packet loop waits for it, so messages would be handled one
// at a time: a service's PUBACK is its own to send once it is done with the message.
import type { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';

/** The MQTT.js version these internals were checked against. */
export const VERIFIED_MQTT_VERSION = '5.16.0';

/**
 * Given to handleMessage's callback for a QoS 1 message: MQTT.js (handlers/publish.js) then
 * skips its own PUBACK, and goes on with the next packet. The service acknowledges with
 * writePuback.
 */
export const SKIP_PUBACK: Error = new Error('acknowledged by the service once it is done with the message');

/**
 * The connection the client reads from and writes to now. `client.stream` is replaced on each
 * reconnect; a packet handed to handleMessage came on the one current at that moment. MQTT.js
 * does not document the property, nor says which connection a packet came on.
 */
export function connectionOf(client: MqttClient): Duplex {
  return client.stream as unknown as Duplex;
}

/** Writes an MQTT 3.1.1 PUBACK for `messageId` (4 bytes) on `connection`. MQTT.js has no call that sends one. */
export function writePuback(connection: Duplex, messageId: number): void {
  connection.write(Buffer.from([0x40, 0x02, (messageId >> 8) & 0xff, messageId & 0xff]));
}

/**
 * Sets the wait before the next reconnect attempt. MQTT.js reads `options.reconnectPeriod` each
 * time it schedules one (after a connection closes); it has no back-off of its own. Setting it to
 * 0 and calling the documented reconnect() from a timer of the service's would not do: with 0,
 * MQTT.js fails the publishes of a clean session still waiting for their PUBACK when a keep-alive
 * or CONNACK timeout ends the connection (client.js _cleanUp), instead of sending them again.
 */
export function setReconnectDelay(client: MqttClient, ms: number): void {
  client.options.reconnectPeriod = ms;
}

/** The wait before the next reconnect attempt (see setReconnectDelay). */
export function reconnectDelayOf(client: MqttClient): number {
  return client.options.reconnectPeriod ?? 0;
}

/**
 * The callback MQTT.js holds for the QoS 1 publish it sent as `messageId` (on its first send, the
 * one passed to publish(); on a resend, a wrapper of it). 'packetsend' reports the packet id, and
 * publish() does not return it (it is given when the packet leaves MQTT.js' queue): this is how a
 * service learns which of its publishes a packet id is, to count the connections it was lost on.
 */
export function pendingPublishCallback(client: MqttClient, messageId: number): unknown {
  return client.outgoing[messageId]?.cb;
}

/** Something sent still waits for the broker's acknowledgement (a PUBACK, SUBACK, ...). */
export function awaitsAcknowledgement(client: MqttClient): boolean {
  return Object.keys(client.outgoing).length > 0;
}
