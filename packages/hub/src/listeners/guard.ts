// Every connection reaches aedes through this stream. It enforces message.length.max on the way
// in (aedes has no limit for MQTT 3.1.1), counts PUBLISH packets both ways for the metrics, and
// carries what the transport knows about the peer (its TLS certificate) to authentication.
import { Duplex } from 'node:stream';
import { InboundCheck } from '../protocol/inbound.js';
import type { TrafficCounters } from '../metrics/stats.js';
import { PacketScanner, PUBLISH } from './scanner.js';

export interface PeerCertificate {
  /** The certificate chain was verified against certificate.ca. */
  verified: boolean;
  commonName?: string;
  /** subjectAltName entries without their type prefix (DNS, email, URI, IP). */
  altNames: string[];
}

export interface PeerInfo {
  transport: 'tcp' | 'ssl' | 'ws' | 'wss';
  remote: string;
  certificate?: PeerCertificate;
}

export class GuardedConnection extends Duplex {
  /** The size guard, the count, and the MQTT 3.1.1 rules aedes does not enforce (protocol/inbound.ts). */
  private readonly inbound: InboundCheck;
  private readonly outbound: PacketScanner;
  private corked = false;
  private readonly flush = (): void => {
    this.corked = false;
    this.inner.uncork();
  };

  constructor(
    private readonly inner: Duplex,
    readonly peer: PeerInfo,
    maxPacket: number,
    private readonly counters: TrafficCounters,
    onViolation: (why: string) => void,
  ) {
    super({ allowHalfOpen: false });
    // A PUBLISH's QoS is bits 1-2 of its first byte.
    const messagesIn = counters.messagesIn;
    const messagesOut = counters.messagesOut;
    this.inbound = new InboundCheck(maxPacket, (type, flags) => {
      if (type === PUBLISH) messagesIn[(flags >> 1) & 3]!++;
    });
    // Outgoing packets are ours: no size limit, only counting.
    this.outbound = new PacketScanner(Number.MAX_SAFE_INTEGER, (type, flags) => {
      if (type === PUBLISH) messagesOut[(flags >> 1) & 3]!++;
    });
    inner.on('data', (chunk: Buffer) => {
      counters.bytesIn += chunk.length;
      const why = this.inbound.feed(chunk);
      if (why) {
        onViolation(why);
        if (this.inbound.reply) inner.write(this.inbound.reply);
        this.destroy(new Error(why));
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.counters.bytesOut += chunk.length;
    this.outbound.feed(chunk);
    if (this.inner.destroyed) return cb(new Error('connection closed'));
    // Everything written in one event-loop turn leaves in one socket write. The sockets have
    // Nagle off (latency), so this is what keeps a busy connection from sending a segment per packet.
    if (!this.corked) {
      this.corked = true;
      this.inner.cork();
      setImmediate(this.flush);
    }
    if (this.inner.write(chunk)) cb();
    else this.inner.once('drain', () => cb());
  }

  // aedes corks the stream and writes a packet in several chunks. Handing them to the socket in
  // one write keeps a packet in one TCP segment: written one by one, the tail of a packet waits
  // for the peer's delayed ACK under Nagle (40 ms per QoS 1 message), and costs a syscall each.
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    if (chunks.length === 1) return this._write(chunks[0]!.chunk, 'binary', cb);
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), 'binary', cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.corked) this.flush();
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // What was written before the close (a refusing CONNACK) still goes out.
    if (this.corked) this.flush();
    this.inner.destroy();
    cb(err);
  }
}
