// One client's outgoing queue. Deliveries for a client are accepted here at once (the broker
// never waits on one client's socket to serve another), and handed to aedes' writer a bounded few at a
// time, so a client that reads slowly only ever holds up its own queue.
//
// Bounds (message.egress.*):
// - QoS 0: at most qos0.buffer.size messages and bytes.max bytes wait; beyond, they are dropped
//   and counted.
// - QoS 1/2 of a persistent session: each message is already in the session store when it gets
//   here. At most qos1.buffer.size of them (and bytes.max bytes) are held in memory; beyond, they
//   stay in the store only ("spilled"), and are read back qos1.batch.max at a time once the queue
//   has drained (or on reconnect, as aedes replays a session's store).
// - QoS 1/2 of a clean session (and retained messages sent on SUBSCRIBE) exist only here: they
//   wait in memory up to bytes.max, and a client that passes it is disconnected.
// A client whose socket accepts nothing for drain.timeout is disconnected by aedes' drain timer.
import type { AedesPublishPacket } from 'aedes';
import type { DropReason } from '../metrics/stats.js';

export interface EgressLimits {
  qos0Messages: number;
  qos1Messages: number;
  batch: number;
  bytes: number;
}

/** What a queue needs from the hub for its client. */
export interface EgressSink {
  /** Writes through aedes (QoS 0 or QoS 1/2); `done` once the socket took the packet. */
  write(packet: AedesPublishPacket, done: () => void): void;
  /** Clean session false: QoS 1/2 messages are in the session store. */
  readonly persistent: boolean;
  /** aedes has finished replaying the stored session (CONNACK sent, queued messages resent). */
  ready(): boolean;
  closed(): boolean;
  /** Up to `limit` stored messages of this session that were never sent, oldest first. */
  readStored(limit: number): Promise<AedesPublishPacket[]>;
  /** `count` messages of this QoS dropped, and why. */
  dropped(qos: number, reason: DropReason, count?: number): void;
  /** The client passed bytes.max with messages that cannot wait in the store: disconnect it. */
  overflow(why: string): void;
  /** The queue is full and QoS 1/2 messages now wait in the store (once per episode). */
  spilling(): void;
}

/**
 * Packets handed to aedes and not yet taken by the socket, per client: at most this many, and at
 * most WRITING_BYTES of them. Enough that a fast reader is never waiting on the queue; beyond it a
 * slow one's messages wait here, where the bounds apply.
 */
const WRITING = 1024;
const WRITING_BYTES = 512 * 1024;

/** An estimate of the memory a queued message holds. */
function sizeOf(p: AedesPublishPacket): number {
  return p.payload.length + p.topic.length + 64;
}

export class EgressQueue {
  private items: AedesPublishPacket[] = [];
  private head = 0;
  private bytes = 0;
  private qos0 = 0;
  private qos1 = 0;
  private writing = 0;
  private writingBytes = 0;
  /** QoS 1/2 messages of a persistent session left in the store, not in `items`. */
  private spilled = false;
  private missed = 0;
  private reading = false;
  private overflowed = false;

  constructor(
    private readonly sink: EgressSink,
    private readonly limits: EgressLimits,
  ) {}

  /** Messages and bytes waiting in memory (for tests and metrics). */
  get waiting(): { messages: number; bytes: number } {
    return { messages: this.items.length - this.head, bytes: this.bytes };
  }

  push(packet: AedesPublishPacket): void {
    if (this.overflowed) {
      this.sink.dropped(packet.qos, 'overflow');
      return;
    }
    const size = sizeOf(packet);
    const overBytes = this.bytes + size > this.limits.bytes;
    if (packet.qos === 0) {
      if (overBytes || this.qos0 >= this.limits.qos0Messages) {
        this.sink.dropped(0, 'queue_full');
        return;
      }
      this.qos0++;
    } else if (this.sink.persistent && !packet.retain) {
      if (this.spilled || overBytes || this.qos1 >= this.limits.qos1Messages) {
        if (!this.spilled) this.sink.spilling();
        this.spilled = true;
        this.missed++;
        return;
      }
      this.qos1++;
    } else if (overBytes) {
      this.overflowed = true;
      // What waited for the client is lost with it (it is disconnected next), and this message too.
      if (this.qos0) this.sink.dropped(0, 'overflow', this.qos0);
      if (this.qos1) this.sink.dropped(1, 'overflow', this.qos1);
      this.sink.dropped(packet.qos, 'overflow');
      this.clear();
      this.sink.overflow(`more than ${this.limits.bytes} bytes of QoS 1 messages waiting for the client (message.egress.bytes.max): it reads too slowly`);
      return;
    } else {
      this.qos1++;
    }
    this.bytes += size;
    this.items.push(packet);
    this.pump();
  }

  /** Writes what the socket will take; reads spilled messages back once the queue is empty. */
  pump(): void {
    if (this.sink.closed()) {
      this.clear();
      return;
    }
    while (this.writing < WRITING && this.writingBytes < WRITING_BYTES && this.head < this.items.length) {
      const p = this.items[this.head]!;
      this.items[this.head++] = undefined as unknown as AedesPublishPacket;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      const size = sizeOf(p);
      this.bytes -= size;
      if (p.qos === 0) this.qos0--;
      else this.qos1--;
      this.writing++;
      this.writingBytes += size;
      this.sink.write(p, () => this.written(size));
    }
    if (this.head === this.items.length && this.head > 0) {
      this.items = [];
      this.head = 0;
    }
    if (this.spilled && this.writing === 0 && this.head === this.items.length && !this.reading && this.sink.ready()) void this.refill();
  }

  private written(size: number): void {
    this.writing--;
    this.writingBytes -= size;
    this.pump();
  }

  private async refill(): Promise<void> {
    this.reading = true;
    const missedBefore = this.missed;
    let got: AedesPublishPacket[] = [];
    try {
      got = await this.sink.readStored(this.limits.batch);
    } catch {
      // The store failed: the messages stay there for the next connection.
      this.reading = false;
      return;
    }
    this.reading = false;
    if (this.sink.closed()) return;
    for (const p of got) {
      this.qos1++;
      this.bytes += sizeOf(p);
      this.items.push(p);
    }
    // Nothing more in the store, and nothing was left there while it was read: back to memory.
    if (got.length < this.limits.batch && this.missed === missedBefore) this.spilled = false;
    if (got.length > 0 || this.spilled) setImmediate(() => this.pump());
  }

  private clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    this.qos0 = 0;
    this.qos1 = 0;
  }
}
