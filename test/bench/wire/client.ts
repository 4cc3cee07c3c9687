// A bare MQTT 3.1.1 client on a raw socket, for load generation. CONNECT and SUBSCRIBE come from
// mqtt-packet (test-support); the per-message packets (PUBLISH at QoS 0/1, PUBACK) are written
// here as a header in front of the payload, never copied, with writes batched per event-loop turn
// and incoming bytes parsed without allocating per message beyond the payload slice, so that the
// client costs far less per message than the broker it measures (MQTT.js would hide the hub's cost).
import { connect, type Socket } from 'node:net';
import { connectPacket, handBuilt, subscribePacket } from '@baetyl/test-support';

export interface Incoming {
  topic: string;
  payload: Buffer;
  qos: number;
  /** The packet id (QoS 1). */
  id?: number;
}

export interface ClientOptions {
  port: number;
  host?: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Called for every PUBLISH received (a PUBACK is sent automatically at QoS 1). */
  onMessage?: (m: Incoming) => void;
  /** A persistent session (clean session off). */
  persistent?: boolean;
  /** Do not PUBACK incoming QoS 1 messages automatically; call ack(id). */
  manualAck?: boolean;
  /** Called for every PUBACK received for our own QoS 1 publishes. */
  onPuback?: (id: number) => void;
}

export class RawClient {
  private socket!: Socket;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private inbuf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private waiters: Array<{ type: number; resolve: (b: Buffer) => void }> = [];
  /** Resolves when everything queued has been handed to the kernel. */
  private drained: Array<() => void> = [];
  closed = false;

  constructor(private readonly opts: ClientOptions) {}

  async connect(): Promise<void> {
    this.socket = connect({ port: this.opts.port, host: this.opts.host ?? '127.0.0.1', noDelay: true });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('drain', () => {
      const d = this.drained;
      this.drained = [];
      for (const f of d) f();
    });
    await new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    const ack = this.expect(0x20);
    this.socket.write(
      connectPacket({
        clientId: this.opts.clientId,
        clean: !this.opts.persistent,
        keepalive: 60,
        ...(this.opts.username !== undefined ? { username: this.opts.username } : {}),
        ...(this.opts.password !== undefined ? { password: this.opts.password } : {}),
      }),
    );
    const body = await ack;
    if (body[1] !== 0) throw new Error(`${this.opts.clientId}: CONNACK return code ${body[1]}`);
  }

  async subscribe(filter: string, qos: number): Promise<number> {
    const id = this.id();
    const ack = this.expect(0x90);
    this.socket.write(subscribePacket(id, [filter], qos as 0 | 1 | 2));
    const res = await ack;
    return res[2]!;
  }

  /** Queues a PUBLISH; returns its packet id (0 at QoS 0). Writes go out once per event-loop turn. */
  publish(topic: string, payload: Buffer, qos: 0 | 1): number {
    const t = Buffer.from(topic);
    const id = qos ? this.id() : 0;
    const varLen = 2 + t.length + (qos ? 2 : 0);
    const len = varLen + payload.length;
    const lb = handBuilt.remainingLength(len);
    const head = Buffer.allocUnsafe(1 + lb.length + varLen);
    let o = 0;
    head[o++] = 0x30 | (qos << 1);
    for (const b of lb) head[o++] = b;
    head.writeUInt16BE(t.length, o);
    o += 2;
    t.copy(head, o);
    o += t.length;
    if (qos) head.writeUInt16BE(id, o);
    this.queue(head);
    this.queue(payload);
    return id;
  }

  /** Whether the socket buffer is over its high-water mark (the caller should wait for drain()). */
  get backlogged(): boolean {
    return this.socket.writableNeedDrain || this.pendingBytes > 1 << 20;
  }

  drain(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((r) => this.drained.push(r));
  }

  /** PUBACK for an incoming QoS 1 message (with manualAck). */
  ack(id: number): void {
    this.queue(Buffer.from([0x40, 2, id >> 8, id & 0xff]));
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end(Buffer.from([0xe0, 0]));
    this.closed = true;
  }

  destroy(): void {
    this.socket.destroy();
    this.closed = true;
  }

  private id(): number {
    const id = this.nextId;
    this.nextId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  private queue(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes > 64 * 1024) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.closed) return;
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.socket.write(all);
  }

  private expect(type: number): Promise<Buffer> {
    return new Promise((resolve) => this.waiters.push({ type, resolve }));
  }

  private onData(d: Buffer): void {
    const buf = this.inbuf.length ? Buffer.concat([this.inbuf, d]) : d;
    let off = 0;
    const acks: number[] = [];
    while (buf.length - off >= 2) {
      let mult = 1;
      let len = 0;
      let i = off + 1;
      let complete = false;
      for (; i < buf.length && i < off + 5; i++) {
        const b = buf[i]!;
        len += (b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || buf.length - i < len) break;
      const first = buf[off]!;
      const type = first & 0xf0;
      const body = buf.subarray(i, i + len);
      off = i + len;
      if (type === 0x30) {
        const qos = (first >> 1) & 3;
        const tl = body.readUInt16BE(0);
        const topic = body.toString('utf8', 2, 2 + tl);
        let p = 2 + tl;
        let id: number | undefined;
        if (qos > 0) {
          id = body.readUInt16BE(p);
          if (!this.opts.manualAck) acks.push(id);
          p += 2;
        }
        this.opts.onMessage?.({ topic, payload: body.subarray(p), qos, id });
      } else if (type === 0x40) {
        this.opts.onPuback?.(body.readUInt16BE(0));
      } else {
        const w = this.waiters.findIndex((x) => x.type === type);
        if (w >= 0) this.waiters.splice(w, 1)[0]!.resolve(Buffer.from(body));
      }
    }
    this.inbuf = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
    if (acks.length) {
      const out = Buffer.allocUnsafe(acks.length * 4);
      for (let k = 0; k < acks.length; k++) {
        out[k * 4] = 0x40;
        out[k * 4 + 1] = 2;
        out.writeUInt16BE(acks[k]!, k * 4 + 2);
      }
      this.queue(out);
    }
  }
}
