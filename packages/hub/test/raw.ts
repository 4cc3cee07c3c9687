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

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
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

/** CONNECT with username/password and the given protocol level and keep-alive. */
export function connectPacket(opts: { clientId: string; username?: string; password?: string; level?: number; keepalive?: number; clean?: boolean }): Buffer {
  let flags = opts.clean === false ? 0 : 0x02; // clean session
  if (opts.username !== undefined) flags |= 0x80;
  if (opts.password !== undefined) flags |= 0x40;
  const keep = Buffer.alloc(2);
  keep.writeUInt16BE(opts.keepalive ?? 0);
  const level = opts.level ?? 4;
  const parts = [str(level === 3 ? 'MQIsdp' : 'MQTT'), Buffer.from([level, flags]), keep];
  if (level === 5) parts.push(Buffer.from([0])); // no properties
  parts.push(str(opts.clientId));
  if (opts.username !== undefined) parts.push(str(opts.username));
  if (opts.password !== undefined) parts.push(str(opts.password));
  return packet(1, 0, Buffer.concat(parts));
}

export function publishPacket(topic: string, payload: Buffer): Buffer {
  return packet(3, 0, Buffer.concat([str(topic), payload]));
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

export function subscribePacket(id: number, filters: string[], qos = 0): Buffer {
  const idBuf = Buffer.alloc(2);
  idBuf.writeUInt16BE(id);
  return packet(8, 2, Buffer.concat([idBuf, ...filters.map((f) => Buffer.concat([str(f), Buffer.from([qos])]))]));
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const PINGRESP = Buffer.from([0xd0, 0x00]);
