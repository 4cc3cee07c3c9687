// What a rule may publish on the hub. The hub refuses, by closing the connection, any packet
// bigger than its message.length.max, counting the whole packet as it reads it: the fixed header
// (1 byte and the 1-4 bytes of the remaining length) and the rest (topic, packet id, payload).
// So a result is measured the same way before it is sent, and one that does not fit is never sent.

/** The hub's own default for message.length.max (packages/hub/src/config/schema.ts, Baetyl v1's 32k). */
export const HUB_MESSAGE_LENGTH_MAX = 32 * 1024;

/** Bytes of MQTT's variable-length "remaining length" field for a value. */
function remainingLengthBytes(n: number): number {
  if (n < 128) return 1;
  if (n < 16_384) return 2;
  if (n < 2_097_152) return 3;
  return 4;
}

/** The size of an MQTT 3.1.1 PUBLISH packet on `topic` with a payload of `payloadBytes`. */
export function publishPacketSize(topic: string, payloadBytes: number, qos: 0 | 1): number {
  const rest = 2 + Buffer.byteLength(topic, 'utf8') + (qos > 0 ? 2 : 0) + payloadBytes;
  return 1 + remainingLengthBytes(rest) + rest;
}

/** The largest payload that fits in one PUBLISH on `topic` under `max` (0 when none does). */
export function largestPayload(topic: string, qos: 0 | 1, max: number): number {
  const fixed = 2 + Buffer.byteLength(topic, 'utf8') + (qos > 0 ? 2 : 0);
  // The first length-field size whose payload fits is the largest payload.
  for (let header = 1; header <= 4; header++) {
    const payload = max - 1 - header - fixed;
    if (payload >= 0 && publishPacketSize(topic, payload, qos) <= max) return payload;
  }
  return 0;
}
