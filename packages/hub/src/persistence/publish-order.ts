// MQTT-4.6.0-6: one publisher's QoS 1 messages reach every subscriber in the order they were sent.
// aedes stores each QoS 1 message for the offline and persistent sessions that match it, then
// hands it to the subscribers. LevelDB's writes run on a thread pool and finish in any order, and
// aedes moved each message on as soon as its own write was done, so subscribers got messages
// reordered whenever a persistent session matched. The writes still run side by side here; only
// the step after them waits, so that the messages move on in the order they entered the broker.

/** What a message that needs no store write waits on. */
export const NOTHING: Promise<void> = Promise.resolve();

interface Entry {
  counter: number;
  /** The store write finished (or the publish ended without one): the entry may leave. */
  settled: boolean;
  error?: unknown;
  release?: (error?: unknown) => void;
}

export class PublishOrder {
  private readonly entries = new Map<number, Entry>();
  private readonly line: Entry[] = [];
  private head = 0;

  /** A QoS 1/2 message entered the broker with this brokerCounter; later ones wait for it. */
  enter(counter: number): void {
    const entry: Entry = { counter, settled: false };
    this.entries.set(counter, entry);
    this.line.push(entry);
  }

  /**
   * Resolves (or rejects) as `write` does, but not before every message that entered earlier has
   * moved on. A message that never entered (not published through the hub's wrapper) passes as is.
   */
  after(counter: number, write: Promise<unknown>): Promise<void> {
    const entry = this.entries.get(counter);
    if (!entry) return write.then(() => undefined);
    if (write === NOTHING) {
      // Nothing to store (no persistent session matched) and nothing ahead: on at once, the
      // common case, without a promise chain per message.
      if (this.line[this.head] === entry) {
        this.settle(entry);
        return NOTHING;
      }
    }
    return new Promise<void>((resolve, reject) => {
      entry.release = (error) => (error === undefined ? resolve() : reject(error));
      write.then(
        () => this.settle(entry),
        (error: unknown) => this.settle(entry, error ?? new Error('store write failed')),
      );
    });
  }

  /** The publish ended; if it ended before its store write (an error earlier), it leaves now. */
  leave(counter: number): void {
    const entry = this.entries.get(counter);
    if (entry && !entry.settled) this.settle(entry);
  }

  /** Messages waiting for an earlier one (for tests). */
  get waiting(): number {
    return this.line.length - this.head;
  }

  private settle(entry: Entry, error?: unknown): void {
    entry.settled = true;
    entry.error = error;
    while (this.head < this.line.length && this.line[this.head]!.settled) {
      const first = this.line[this.head]!;
      this.line[this.head++] = undefined as unknown as Entry;
      this.entries.delete(first.counter);
      first.release?.(first.error);
    }
    if (this.head === this.line.length) {
      this.line.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.line.length) {
      this.line.splice(0, this.head);
      this.head = 0;
    }
  }
}
