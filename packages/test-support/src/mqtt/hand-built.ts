// Packets built byte by byte, for two needs only (well-formed packets otherwise come from
// raw.ts, written by mqtt-packet):
// - bytes that break MQTT 3.1.1 on purpose, for tests of a server's refusals (strings that are
//   not UTF-8, levels it does not support, flags that contradict each other), which mqtt-packet
//   refuses to write;
// - a test that pins mqtt-packet's own state in its process (its number cache, which the first
//   generate() call fills) and so must not run that encoder itself;
// - the remaining length in front of a payload written without copying it (a load client).

/** The variable-length encoding of a remaining length (1 to 4 bytes for what MQTT allows). */
export function remainingLength(n: number): Buffer {
  const len: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  return Buffer.from(len);
}

/** The fixed header (type, flags, remaining length) and the body. The length is always right. */
export function frame(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), remainingLength(body.length), body]);
}

/** A two-byte packet id. */
export function packetId(v: number): Buffer {
  return Buffer.from([v >> 8, v & 0xff]);
}

/** A length-prefixed string of any bytes. */
export function mqttString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([packetId(b.length), b]);
}

/**
 * A CONNECT with any protocol level, any will QoS, strings of any bytes, an empty client id with
 * a persistent session, a password without a user name.
 */
export function connect(opts: {
  clientId: string | Buffer;
  username?: string | Buffer;
  password?: string;
  level?: number;
  clean?: boolean;
  will?: { topic: string | Buffer; qos?: number };
}): Buffer {
  let flags = opts.clean === false ? 0 : 0x02;
  if (opts.username !== undefined) flags |= 0x80;
  if (opts.password !== undefined) flags |= 0x40;
  if (opts.will) flags |= 0x04 | ((opts.will.qos ?? 0) << 3);
  const level = opts.level ?? 4;
  const parts = [mqttString(level === 3 ? 'MQIsdp' : 'MQTT'), Buffer.from([level, flags, 0, 0])];
  if (level === 5) parts.push(Buffer.from([0])); // no properties
  parts.push(mqttString(opts.clientId));
  if (opts.will) parts.push(mqttString(opts.will.topic), mqttString(Buffer.alloc(0)));
  if (opts.username !== undefined) parts.push(mqttString(opts.username));
  if (opts.password !== undefined) parts.push(mqttString(opts.password));
  return frame(1, 0, Buffer.concat(parts));
}

/** A PUBLISH; the topic may be any bytes, and the flags any four bits (QoS 3, DUP at QoS 0). */
export function publish(topic: string | Buffer, payload: Buffer, flags: number, id?: number): Buffer {
  return frame(3, flags, Buffer.concat([mqttString(topic), id === undefined ? Buffer.alloc(0) : packetId(id), payload]));
}

export const PINGREQ = frame(12, 0, Buffer.alloc(0));
export const PINGRESP = frame(13, 0, Buffer.alloc(0));

/** A SUBSCRIBE whose filters may be any bytes, or none at all. */
export function subscribe(id: number, filters: Array<string | Buffer>, qos = 0): Buffer {
  return frame(8, 2, Buffer.concat([packetId(id), ...filters.map((f) => Buffer.concat([mqttString(f), Buffer.from([qos])]))]));
}

/** An UNSUBSCRIBE whose filters may be any bytes, or none at all. */
export function unsubscribe(id: number, filters: Array<string | Buffer>): Buffer {
  return frame(10, 2, Buffer.concat([packetId(id), ...filters.map((f) => mqttString(f))]));
}
