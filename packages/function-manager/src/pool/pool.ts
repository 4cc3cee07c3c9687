// The instance pool of one function. It starts runtime instances through the master API when
// calls need them (from 0 up to `max`), keeps `min` warm from the start, stops instances idle for
// `idletime`, and replaces the instances it is told to (call/attempts.ts holds the retries and the
// health policy that decides). Messages enter through reserve(): the pool hands out at most as
// many reservations as its instances can take calls (max x concurrency, or more while a deeper
// batch needs them), so a saturated function makes its rules wait (and stop reading from the hub)
// instead of queueing messages in memory.
// Which instance a call goes to, and how many instances to start, follow the rules both pools of
// the call path share, in their words (@baetyl/core/pool). A fast function's calls are batched on
// few instances (pickToBatch), as many as batching.ts says; the others go idle.
import { formatDuration } from '@baetyl/core/config';
import { type Logger } from '@baetyl/core/log';
import { MIN_START_TIMEOUT, type FunctionMessage } from '@baetyl/core/function';
import { membersToStart, pickMember, pickToBatch, type MemberView } from '@baetyl/core/pool';
import { callWithRetries, idleReplaceReason, type CallOutcome, type InstanceLender } from '../call/attempts.js';
import { DEFAULT_INSTANCE_CONCURRENCY } from '../config/schema.js';
import { Batching } from './batching.js';
import type { HostCpu } from './host-cpu.js';
import { dialFunction, FunctionInstance } from './instance.js';
import type { InstanceLauncher } from './launcher.js';
import type { CallMetrics, PoolStats } from '../metrics/registry.js';

export type { CallOutcome } from '../call/attempts.js';
export type { PoolStats } from '../metrics/registry.js';

export interface PoolSettings {
  functionName: string;
  /** The application service that runs the function's instances. */
  serviceName: string;
  min: number;
  max: number;
  /** ms; 0 = instances are never stopped for being idle. */
  idleTime: number;
  /** ms between eviction checks; 0 = no checks. */
  evictTime: number;
  /** Call deadline, ms; also the start (dial) timeout when above MIN_START_TIMEOUT. */
  timeout: number;
  messageLengthMax: number;
  backoffMax: number;
  /**
   * Calls sent to one instance at once (functions[].instance.concurrency; Baetyl's value was 1).
   * Unset: DEFAULT_INSTANCE_CONCURRENCY, and a fast function's batch as deep as batching.ts says.
   */
  concurrency?: number;
  /** Counts an instance started for a waiting call (metrics/registry.ts). */
  coldStart?: () => void;
  /** Where the host's CPU load is read (default: /proc/stat every 250 ms). */
  hostCpu?: HostCpu;
}

/**
 * A busy instance of a fast function that has answered nothing for this long (ms) gets no more
 * calls and does not count as one of the batching instances: a call stuck in it lets another
 * instance take the batch. (50 ms was too short: on a loaded 2-core machine a runtime is
 * sometimes not scheduled for that long.)
 */
export const BATCH_STALL_MS = 250;

export class PoolClosedError extends Error {
  constructor(fn: string) {
    super(`the pool of function (${fn}) is closed`);
    this.name = 'PoolClosedError';
  }
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
}

/** A right to have one message processed by the pool; release it once the calls are done. */
export class Reservation {
  private released = false;

  constructor(private readonly pool: FunctionPool) {}

  /** Calls the function, retrying on errors, up to `attempts` calls in all (at least one); `metrics` counts them. */
  invoke(msg: FunctionMessage, attempts: number, metrics?: CallMetrics): Promise<CallOutcome> {
    return callWithRetries(this.pool, msg, attempts, metrics);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.releaseReservation();
  }
}

export class FunctionPool implements InstanceLender {
  readonly functionName: string;
  /** Calls an instance takes at once when the calls are not batched (instance.concurrency or its default). */
  private readonly concurrency: number;
  private readonly ready = new Set<FunctionInstance>();
  private readonly busyIds = new Set<number>();
  private readonly freeIds: number[] = [];
  private starting = 0;
  /** Calls waiting for an instance (borrow()). */
  private readonly waiting: Array<Waiter<FunctionInstance>> = [];
  private readonly reservers: Array<Waiter<Reservation>> = [];
  private reserved = 0;
  private readonly pending = new Set<Promise<void>>();
  private evictor: NodeJS.Timeout | undefined;
  private warmRetry: NodeJS.Timeout | undefined;
  private isClosed = false;
  private closing: Promise<void> | undefined;
  /** Whether and how widely the calls are batched (fast functions). */
  private readonly batch: Batching;

  constructor(
    private readonly settings: PoolSettings,
    private readonly launcher: InstanceLauncher,
    /** The function's log, which the attempts (call/attempts.ts) write to too. */
    readonly log: Logger,
  ) {
    this.functionName = settings.functionName;
    this.concurrency = Math.max(1, settings.concurrency ?? DEFAULT_INSTANCE_CONCURRENCY);
    this.batch = new Batching({
      functionName: settings.functionName,
      concurrency: this.concurrency,
      ...(settings.concurrency !== undefined ? { fixedDepth: this.concurrency } : {}),
      timeout: settings.timeout,
      max: settings.max,
      log,
      ...(settings.hostCpu ? { hostCpu: settings.hostCpu } : {}),
    });
    // Ids 1..max, recycled first-in first-out as Baetyl did; an id is free again once its instance is stopped.
    for (let id = 1; id <= settings.max; id++) this.freeIds.push(id);
  }

  /** Starts the `min` warm instances and the evictor. */
  start(): void {
    if (this.settings.evictTime > 0) {
      this.evictor = setInterval(() => this.evict(), this.settings.evictTime);
      this.evictor.unref();
    }
    this.ensureMin();
  }

  stats(): PoolStats {
    let busy = 0;
    let inflight = 0;
    for (const inst of this.ready) {
      if (inst.inflight > 0) busy++;
      inflight += inst.inflight;
    }
    return {
      ready: this.ready.size,
      busy,
      creating: this.starting,
      inflight,
      reserved: this.reserved,
    };
  }

  /** Waits until the pool can take one more message. This is where back-pressure comes from. */
  reserve(): Promise<Reservation> {
    if (this.closed) return Promise.reject(new PoolClosedError(this.functionName));
    if (this.reserved < this.reservationLimit()) {
      this.reserved++;
      return Promise.resolve(new Reservation(this));
    }
    return new Promise((resolve, reject) => this.reservers.push({ resolve, reject }));
  }

  /** @internal Used by Reservation. */
  releaseReservation(): void {
    this.reserved--;
    this.admitReservers();
  }

  /** As many messages as the instances can take calls: max x concurrency, or the batch's room when it is larger. */
  private reservationLimit(): number {
    const spread = this.settings.max * this.concurrency;
    if (!this.batch.active()) return spread;
    return Math.max(spread, Math.min(this.batch.width, this.settings.max) * this.batch.depth());
  }

  private admitReservers(): void {
    // Most dispatches find nobody waiting: the limit is not worked out for them.
    if (this.reservers.length === 0) return;
    const limit = this.reservationLimit();
    while (this.reservers.length > 0 && this.reserved < limit) {
      this.reserved++;
      this.reservers.shift()!.resolve(new Reservation(this));
    }
  }

  /** Stops everything: waiting messages are refused, every instance is stopped through the API. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.isClosed = true;
    if (this.evictor) clearInterval(this.evictor);
    if (this.warmRetry) clearTimeout(this.warmRetry);
    const err = new PoolClosedError(this.functionName);
    for (const w of this.waiting.splice(0)) w.reject(err);
    for (const w of this.reservers.splice(0)) w.reject(err);
    for (const inst of [...this.ready]) this.retire(inst, 'the function manager is stopping', true);
    // Instances still starting are stopped as soon as their start completes (see startOne).
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** The call deadline of the function, ms. */
  get callTimeout(): number {
    return this.settings.timeout;
  }

  /** @internal Used by the attempts (call/attempts.ts): an instance with room for one more call. */
  borrow(): Promise<FunctionInstance> {
    if (this.closed) return Promise.reject(new PoolClosedError(this.functionName));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.dispatch();
    });
  }

  /** @internal Used by the attempts: the instance back after a call; `replaceBecause` retires it. */
  giveBack(inst: FunctionInstance, replaceBecause: string | undefined): void {
    inst.inflight--;
    inst.lastUsed = inst.activeAt = Date.now();
    if (replaceBecause !== undefined) this.retire(inst, replaceBecause);
    else if (inst.retiring) this.retire(inst, 'it was retired');
    this.dispatch();
  }

  /**
   * Gives waiting calls to instances with room, and grows the pool: for the calls left waiting,
   * and, as Baetyl did, by one more whenever a call had to go to an instance that was already busy.
   */
  private dispatch(): void {
    if (this.closed) return;
    let queuedOnBusy = false;
    const now = Date.now();
    const batching = this.batch.active();
    while (this.waiting.length > 0) {
      const inst = this.pick(now, batching);
      if (!inst) break;
      if (inst.inflight > 0) queuedOnBusy = true;
      else inst.activeAt = now;
      inst.inflight++;
      this.waiting.shift()!.resolve(inst);
    }
    this.batch.afterDispatch(now, this.waiting.length, batching);
    // A deeper batch (the verdict came, or the batch spread) makes room for more messages.
    if (batching) this.admitReservers();
    const measuring = this.batch.measuring;
    let room = this.freeIds.length;
    // Until the answers say whether the function is fast, a burst starts no more instances than a
    // batch is spread on: if it is fast, that is all it will use. Once the answers say it is slow
    // (or say nothing: a v1 runtime), the waiting calls start the rest at once.
    if (batching || measuring) {
      // No more instances than the batch is spread on, counting the stalled ones out.
      let stalled = 0;
      for (const inst of this.ready) if (this.stalled(inst, now)) stalled++;
      room = Math.max(0, Math.min(room, this.batch.width + stalled - this.ready.size - this.starting));
    }
    for (let n = membersToStart(this.waiting.length, this.starting, this.concurrency, room); n > 0; n--) this.startOne('demand');
    // Batching queues on busy instances on purpose, and so does the wait for the first answers:
    // neither is a reason to grow.
    if (queuedOnBusy && !batching && !measuring && this.starting === 0 && this.freeIds.length > 0) this.startOne('scale');
  }

  private stalled(inst: FunctionInstance, now: number): boolean {
    return inst.inflight > 0 && now - inst.activeAt > BATCH_STALL_MS;
  }

  /**
   * The instance for the next call, up to `concurrency` calls each (pickMember's rule), or up to
   * the batch's depth for a fast function (pickToBatch's rule), after retiring idle ones the
   * health policy rejects.
   */
  private pick(now: number, batching: boolean): FunctionInstance | undefined {
    for (const inst of this.ready) {
      if (inst.inflight > 0) continue;
      const unhealthy = idleReplaceReason(inst);
      if (unhealthy !== undefined) this.retire(inst, unhealthy);
    }
    if (!batching) return pickMember(this.ready, this.view);
    this.pickAt = now;
    this.pickDepth = this.batch.depth();
    return pickToBatch(this.ready, this.batchView, this.batch.width);
  }

  private readonly view: MemberView<FunctionInstance> = {
    load: (inst) => inst.inflight,
    lastUsed: (inst) => inst.lastUsed,
    hasRoom: (_inst, load) => load < this.concurrency,
  };

  /** Set by pick() for the view below. */
  private pickAt = 0;
  private pickDepth = 1;
  private readonly batchView: MemberView<FunctionInstance> = {
    ...this.view,
    hasRoom: (inst, load) => load < this.pickDepth && !this.stalled(inst, this.pickAt),
    counts: (inst) => !this.stalled(inst, this.pickAt),
  };

  private ensureMin(): void {
    while (!this.closed && this.ready.size + this.starting < this.settings.min && this.freeIds.length > 0) this.startOne('warm');
  }

  private evict(): void {
    if (this.closed) return;
    const { idleTime, min } = this.settings;
    if (idleTime > 0) {
      const now = Date.now();
      const idle = [...this.ready].filter((inst) => inst.inflight === 0 && now - inst.lastUsed >= idleTime).sort((a, b) => a.lastUsed - b.lastUsed);
      let alive = this.ready.size + this.starting;
      for (const inst of idle) {
        // Unlike Baetyl, idle eviction never goes below min, so warm instances do not churn.
        if (alive <= min) break;
        this.retire(inst, `it was idle for more than ${formatDuration(idleTime)}`);
        alive--;
      }
    }
    this.ensureMin();
  }

  /**
   * Starts one instance: for a waiting call ('demand', which gets its error), to keep `min` warm
   * ('warm', retried later), or because calls are queueing on busy instances ('scale').
   */
  private startOne(why: 'demand' | 'warm' | 'scale'): void {
    const id = this.freeIds.shift();
    if (id === undefined) return;
    if (why === 'demand') this.settings.coldStart?.();
    this.starting++;
    this.busyIds.add(id);
    const name = `${this.settings.serviceName}.${this.functionName}.${id}`;
    const work = this.create(id, name).then(
      (inst) => {
        this.starting--;
        if (this.closed) {
          this.ready.add(inst);
          this.retire(inst, 'the function manager is stopping', true);
          return;
        }
        this.ready.add(inst);
        this.log.info(`instance (${name}) started`, { instance: name, address: inst.address });
        this.dispatch();
      },
      (err: Error) => {
        this.starting--;
        this.returnId(id);
        if (this.closed) return;
        this.log.error(err.message, { instance: name });
        if (why === 'demand') this.waiting.shift()?.reject(err);
        else if (why === 'warm') this.retryWarmLater();
        this.dispatch();
      },
    );
    this.track(work);
  }

  private retryWarmLater(): void {
    if (this.warmRetry || this.closed) return;
    this.warmRetry = setTimeout(
      () => {
        this.warmRetry = undefined;
        this.ensureMin();
      },
      Math.max(100, this.settings.backoffMax),
    );
    this.warmRetry.unref();
  }

  private async create(id: number, name: string): Promise<FunctionInstance> {
    const { serviceName } = this.settings;
    // Baetyl used the call timeout to wait for a new instance too, so a short timeout failed every
    // cold start of a runtime that takes a few seconds to load (python on a small device).
    // deadline layer: instance start (@baetyl/core/function/deadlines.ts).
    const timeout = Math.max(this.settings.timeout, MIN_START_TIMEOUT);
    let dialAddress: string;
    try {
      ({ dialAddress } = await this.launcher.start(serviceName, name));
    } catch (err) {
      await this.stopQuietly(name);
      throw new Error(`failed to start instance (${name}) of function (${this.functionName}) through the master API: ${(err as Error).message}`);
    }
    try {
      const client = await dialFunction(dialAddress, {
        timeout,
        messageLengthMax: this.settings.messageLengthMax,
        backoffMax: this.settings.backoffMax,
      });
      return new FunctionInstance(id, name, dialAddress, client, (us) => this.batch.noteAnswer(us));
    } catch (err) {
      await this.stopQuietly(name);
      throw new Error(
        `instance (${name}) of function (${this.functionName}) did not answer on ${dialAddress} within ${formatDuration(timeout)} (${(err as Error).message}); it was stopped`,
      );
    }
  }

  /** Takes an instance out of service; it is stopped now, or when its last running call ends. */
  private retire(inst: FunctionInstance, why: string, force = false): void {
    this.ready.delete(inst);
    if (!inst.retiring) this.log.info(`instance (${inst.name}) is stopping: ${why}`, { instance: inst.name });
    inst.retiring = true;
    if ((inst.inflight > 0 && !force) || inst.stopping) return;
    inst.stopping = true;
    inst.close();
    const work = this.stopQuietly(inst.name).then(() => {
      this.log.info(`instance (${inst.name}) stopped`, { instance: inst.name });
      this.returnId(inst.id);
      if (!this.closed) {
        this.dispatch();
        this.ensureMin();
      }
    });
    this.track(work);
  }

  private returnId(id: number): void {
    if (!this.busyIds.delete(id)) return;
    this.freeIds.push(id);
  }

  private async stopQuietly(name: string): Promise<void> {
    try {
      await this.launcher.stop(this.settings.serviceName, name);
    } catch (err) {
      this.log.warn(`failed to stop instance (${name}) through the master API: ${(err as Error).message}`, { instance: name });
    }
  }

  private track(work: Promise<void>): void {
    const guarded = work.catch((err: Error) => {
      this.log.error(`pool of function (${this.functionName}): ${err.stack ?? err.message}`);
    });
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }
}
