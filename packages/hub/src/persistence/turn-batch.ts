// The store's writes, grouped: every put and del asked for in one event-loop turn goes to LevelDB
// as one batch, and while a batch is being written the next one gathers, so LevelDB sees one
// write (one log append, one trip to the thread pool) for many messages. At QoS 1 a persistent
// session costs the store a put at enqueue, two puts for the packet id and two dels at PUBACK:
// written one by one, those were most of the hub's CPU per message.
//
// What the store relies on still holds:
// - a write's promise resolves only once the batch holding it is written (LevelDB has appended it
//   to its log), so a PUBACK still follows the message being stored;
// - a read sees every write asked for before it, written or not (get reads through the writes
//   waiting; a range read waits for them to be written);
// - batches are written one after the other, in order, so writes resolve in the order they were
//   asked for, and a later write of a key always wins;
// - a batch is atomic: when it fails (a full disk), every write in it fails with that error and
//   none of them is kept.
// Within a batch only the last write of a key is kept: LevelDB would apply the earlier ones and
// overwrite them in the same atomic step, so nobody could ever read them.
//
// Reads of keys written lately are answered from what was written, without a trip to LevelDB:
// at QoS 1 aedes reads back the message it stored a moment ago, once for its packet id and once
// at PUBACK. This is exact because everything the store writes goes through here: a key put by a
// written batch holds that value in LevelDB until the next write of it, which updates or drops
// the copy. Only puts are kept (a del drops the copy), at most RECENT of them; a failed batch
// drops the copies of its keys, and a range delete drops them all.

export type WriteOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

/** The LevelDB calls the batching needs (classic-level through `level`, buffer values). */
export interface LevelBackend {
  get(key: string, options?: object): Promise<Buffer | undefined>;
  batch(ops: WriteOp[], options?: object): Promise<void>;
  clear(range: KeyRange): Promise<void>;
  values(options?: object): AsyncIterable<Buffer>;
  close(): Promise<void>;
}

/** A range of keys, as LevelDB takes it for clear() and values(). */
export interface KeyRange {
  gt?: string;
  gte?: string;
  lt?: string;
  lte?: string;
}

/** What aedes-persistence-level's chained batch (`db.batch()`) offers. */
export interface ChainedBatch {
  put(key: string, value: Buffer): ChainedBatch;
  del(key: string): ChainedBatch;
  write(): Promise<void>;
}

interface Batch {
  kind: 'batch';
  ops: Map<string, WriteOp>;
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** A range delete: nothing after it is written before it is done. */
interface Clear {
  kind: 'clear';
  range: KeyRange;
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

type Job = Batch | Clear;

const BUFFER = { valueEncoding: 'buffer' };
/** How many written values are kept for reads: a few times the messages a busy hub has in flight. */
const RECENT = 2048;

function deferred<T extends Job['kind']>(kind: T): Extract<Job, { kind: T }> {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { kind, done, resolve, reject, ...(kind === 'batch' ? { ops: new Map() } : {}) } as unknown as Extract<Job, { kind: T }>;
}

/**
 * The database handed to aedes-persistence-level in place of the LevelDB itself: the same calls
 * it makes (get, put, del, batch, clear, values, close), with the writes grouped per turn.
 */
export class TurnBatchedLevel {
  /** Jobs not yet written; the last one gathers writes while it is a batch. */
  private readonly queue: Job[] = [];
  private running: Job | undefined;
  private scheduled = false;
  /** The latest write of each key not yet written (queued or being written), for reads. */
  private readonly unwritten = new Map<string, { op: WriteOp; batch: Batch }>();
  /** Values put by written batches, as LevelDB holds them now; oldest first. */
  private readonly recent = new Map<string, Buffer>();
  /** Range deletes queued or being written. */
  private readonly clears = new Set<Clear>();
  /** Batches handed to LevelDB so far, and the writes they held (for tests and profiling). */
  batches = 0;
  writes = 0;

  constructor(private readonly db: LevelBackend) {}

  put(key: string, value: Buffer, _options?: object): Promise<void> {
    return this.add([{ type: 'put', key, value }]);
  }

  del(key: string): Promise<void> {
    return this.add([{ type: 'del', key }]);
  }

  /** With operations: all of them in one batch (atomic, as LevelDB's). Without: a chained batch. */
  batch(): ChainedBatch;
  batch(ops: WriteOp[], options?: object): Promise<void>;
  batch(ops?: WriteOp[], _options?: object): ChainedBatch | Promise<void> {
    if (ops) return this.add(ops);
    const gathered: WriteOp[] = [];
    const chained: ChainedBatch = {
      put: (key, value) => (gathered.push({ type: 'put', key, value }), chained),
      del: (key) => (gathered.push({ type: 'del', key }), chained),
      write: () => this.add(gathered),
    };
    return chained;
  }

  async get(key: string, options?: object): Promise<Buffer | undefined> {
    // A range delete waiting or running may remove the key: read once it is done.
    for (let clear = this.clearing(key); clear; clear = this.clearing(key)) await clear.done.catch(() => undefined);
    const pending = this.unwritten.get(key);
    if (pending) return pending.op.type === 'put' ? pending.op.value : undefined;
    return this.recent.get(key) ?? this.db.get(key, options);
  }

  clear(range: KeyRange): Promise<void> {
    const job = deferred('clear');
    job.range = range;
    this.clears.add(job);
    this.queue.push(job);
    this.writeNext();
    return job.done;
  }

  /** A range read, once every write asked for before it is in LevelDB. */
  async *values(options?: object): AsyncGenerator<Buffer> {
    await this.allWritten();
    yield* this.db.values(options);
  }

  async close(): Promise<void> {
    await this.allWritten();
    await this.db.close();
  }

  /** Resolves once every write asked for so far is written or failed; starts them at once. */
  async allWritten(): Promise<void> {
    const last = this.queue.at(-1) ?? this.running;
    if (!last) return;
    this.writeNext();
    await last.done.catch(() => undefined);
  }

  /** The last range delete not yet done whose range holds `key` (compared as LevelDB does: UTF-8 bytes). */
  private clearing(key: string): Clear | undefined {
    let found: Clear | undefined;
    if (this.clears.size === 0) return found;
    const k = Buffer.from(key);
    const cmp = (bound: string) => Buffer.compare(k, Buffer.from(bound));
    for (const c of this.clears) {
      const r = c.range;
      if (r.gt !== undefined && cmp(r.gt) <= 0) continue;
      if (r.gte !== undefined && cmp(r.gte) < 0) continue;
      if (r.lt !== undefined && cmp(r.lt) >= 0) continue;
      if (r.lte !== undefined && cmp(r.lte) > 0) continue;
      found = c;
    }
    return found;
  }

  private add(ops: WriteOp[]): Promise<void> {
    let batch = this.queue.at(-1);
    if (batch?.kind !== 'batch') {
      batch = deferred('batch');
      this.queue.push(batch);
    }
    for (const op of ops) {
      batch.ops.delete(op.key);
      batch.ops.set(op.key, op);
      this.unwritten.set(op.key, { op, batch });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.writeNext();
      });
    }
    return batch.done;
  }

  /** Hands the next job to LevelDB unless one is being written; the next follows when it is done. */
  private writeNext(): void {
    if (this.running) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    let write: Promise<void>;
    if (job.kind === 'batch') {
      const ops = [...job.ops.values()];
      this.batches++;
      this.writes += ops.length;
      write = this.db.batch(ops, BUFFER);
    } else {
      write = this.db.clear(job.range);
    }
    write.then(
      () => this.finish(job),
      (error: unknown) => this.finish(job, error ?? new Error('store write failed')),
    );
  }

  private finish(job: Job, error?: unknown): void {
    this.running = undefined;
    if (job.kind === 'batch') {
      // Written (or failed as a whole): reads go to LevelDB again for its keys, unless a later
      // batch wrote them since.
      for (const [key, op] of job.ops) {
        if (this.unwritten.get(key)?.batch === job) this.unwritten.delete(key);
        this.recent.delete(key);
        if (error === undefined && op.type === 'put') this.recent.set(key, op.value);
      }
      for (const key of this.recent.keys()) {
        if (this.recent.size <= RECENT) break;
        this.recent.delete(key);
      }
    } else {
      this.clears.delete(job);
      this.recent.clear();
    }
    this.writeNext();
    if (error === undefined) job.resolve();
    else job.reject(error);
  }
}
