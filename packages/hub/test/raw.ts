// Raw MQTT bytes over a plain socket, for what MQTT.js will not send: other protocol levels,
// garbage, oversize or malformed packets, a missing CONNECT.
import net from 'node:net';

export function rawConnect(url: string): Promise<net.Socket> {
  const u = new URL(url.replace('tcp://', 'http://'));
  return new Promise((ok, fail) => {
    const s = net.connect(Number(u.port), u.hostname, () => ok(s));
    s.once('error', fail);
  });
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

export function packet(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | flags]), remainingLength(body.length), body]);
}

/** CONNECT with username/password and the given protocol level and keep-alive; strings may be raw bytes. */
export function connectPacket(opts: {
  clientId: string | Buffer;
  username?: string | Buffer;
  password?: string;
  level?: number;
  keepalive?: number;
  clean?: boolean;
  will?: { topic: string | Buffer; payload?: Buffer; qos?: number };
}): Buffer {
  let flags = opts.clean === false ? 0 : 0x02; // clean session
  if (opts.username !== undefined) flags |= 0x80;
  if (opts.password !== undefined) flags |= 0x40;
  if (opts.will) flags |= 0x04 | ((opts.will.qos ?? 0) << 3);
  const keep = Buffer.alloc(2);
  keep.writeUInt16BE(opts.keepalive ?? 0);
  const level = opts.level ?? 4;
  const parts = [str(level === 3 ? 'MQIsdp' : 'MQTT'), Buffer.from([level, flags]), keep];
  if (level === 5) parts.push(Buffer.from([0])); // no properties
  parts.push(str(opts.clientId));
  if (opts.will) parts.push(str(opts.will.topic), str(opts.will.payload ?? Buffer.alloc(0)));
  if (opts.username !== undefined) parts.push(str(opts.username));
  if (opts.password !== undefined) parts.push(str(opts.password));
  return packet(1, 0, Buffer.concat(parts));
}

/** A PUBLISH; the topic may be raw bytes (for bytes that are not UTF-8). QoS 1 carries packet id `id`. */
export function publishPacket(topic: string | Buffer, payload: Buffer, qos: 0 | 1 = 0, id = 1): Buffer {
  const idBuf = Buffer.alloc(qos > 0 ? 2 : 0);
  if (qos > 0) idBuf.writeUInt16BE(id);
  return packet(3, qos << 1, Buffer.concat([str(topic), idBuf, payload]));
}

/** Everything the hub sends until it closes the socket (or the timeout, which fails). */
export function readUntilClosed(s: net.Socket, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => fail(new Error('the hub did not close the connection')), timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      ok(Buffer.concat(chunks));
    });
  });
}

/** Reads until `n` bytes arrived. */
export function readBytes(s: net.Socket, n: number, timeoutMs = 20_000): Promise<Buffer> {
  return new Promise((ok, fail) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`wanted ${n} bytes, got ${buf.length}`)), timeoutMs);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) {
        clearTimeout(timer);
        s.off('data', onData);
        ok(buf);
      }
    };
    s.on('data', onData);
  });
}

/** A SUBSCRIBE; filters may be raw bytes. */
export function subscribePacket(id: number, filters: Array<string | Buffer>, qos = 0): Buffer {
  const idBuf = Buffer.alloc(2);
  idBuf.writeUInt16BE(id);
  return packet(8, 2, Buffer.concat([idBuf, ...filters.map((f) => Buffer.concat([str(f), Buffer.from([qos])]))]));
}

/** An UNSUBSCRIBE; filters may be raw bytes, or none at all. */
export function unsubscribePacket(id: number, filters: Array<string | Buffer>): Buffer {
  const idBuf = Buffer.alloc(2);
  idBuf.writeUInt16BE(id);
  return packet(10, 2, Buffer.concat([idBuf, ...filters.map((f) => str(f))]));
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const PINGRESP = Buffer.from([0xd0, 0x00]);
