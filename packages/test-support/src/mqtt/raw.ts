// MQTT over a plain socket, for what MQTT.js will not do: read at a chosen pace, send a packet
// at a chosen moment, see the exact bytes a hub answers. Well-formed packets are written by
// mqtt-packet (the encoder aedes and MQTT.js use); hand-built.ts has the deliberately bad ones.
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** A TCP socket to an mqtt:// or tcp:// URL, once connected. */
export function rawConnect(url: string): Promise<net.Socket> {
  const u = new URL(url.replace(/^(tcp|mqtt):\/\//, 'http://'));
  return new Promise((ok, fail) => {
    const s = net.connect(Number(u.port), u.hostname, () => ok(s));
    s.once('error', fail);
  });
}

/** A packet's bytes; throws where mqtt-packet refuses the packet (see malformed.ts for those). */
export function encode(packet: Packet, protocolVersion: 3 | 4 | 5 = 4): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

export interface ConnectOptions {
  clientId: string | Buffer;
  username?: string | Buffer;
  password?: string;
  /** Protocol level 3, 4 (the default) or 5. */
  level?: 3 | 4 | 5;
  keepalive?: number;
  clean?: boolean;
  will?: { topic: string; payload?: Buffer; qos?: 0 | 1 | 2; retain?: boolean };
}

export function connectPacket(opts: ConnectOptions): Buffer {
  const level = opts.level ?? 4;
  return encode(
    {
      cmd: 'connect',
      protocolId: level === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: level,
      clean: opts.clean ?? true,
      clientId: opts.clientId as string,
      keepalive: opts.keepalive ?? 0,
      ...(opts.username !== undefined ? { username: opts.username as string } : {}),
      ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
      ...(opts.will
        ? { will: { topic: opts.will.topic, payload: opts.will.payload ?? Buffer.alloc(0), qos: opts.will.qos ?? 0, retain: opts.will.retain ?? false } }
        : {}),
    },
    level,
  );
}

/** A PUBLISH; the topic may be raw bytes (bytes that are not UTF-8). QoS 1 and 2 carry packet id `id`. */
export function publishPacket(topic: string | Buffer, payload: Buffer, qos: 0 | 1 | 2 = 0, id = 1, flags: { dup?: boolean; retain?: boolean } = {}): Buffer {
  return encode({
    cmd: 'publish',
    topic: topic as string,
    payload,
    qos,
    dup: flags.dup ?? false,
    retain: flags.retain ?? false,
    ...(qos > 0 ? { messageId: id } : {}),
  });
}

export function subscribePacket(id: number, filters: string[], qos: 0 | 1 | 2 = 0): Buffer {
  return encode({ cmd: 'subscribe', messageId: id, subscriptions: filters.map((topic) => ({ topic, qos })) });
}

export function unsubscribePacket(id: number, filters: string[]): Buffer {
  return encode({ cmd: 'unsubscribe', messageId: id, unsubscriptions: filters });
}

export function pubackPacket(id: number): Buffer {
  return encode({ cmd: 'puback', messageId: id });
}

// Built by hand, so that importing this module does not run mqtt-packet (see hand-built.ts).
export { PINGREQ, PINGRESP } from './hand-built.js';

/** Everything the peer sends until it closes the socket (or the timeout, which fails). */
export function readUntilClosed(s: net.Socket, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => fail(new Error('the peer did not close the connection')), timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      ok(Buffer.concat(chunks));
    });
  });
}

/** Reads until `n` bytes arrived; resolves with all that came (which may be more). */
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

/** A decoder of MQTT 3.1.1 bytes into packets, fed chunk by chunk. */
export function packetReader(onPacket: (p: Packet) => void): { feed(chunk: Buffer): void } {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', onPacket);
  parser.on('error', (err: Error) => {
    throw err;
  });
  return { feed: (chunk) => void parser.parse(chunk) };
}

export type { Packet };
