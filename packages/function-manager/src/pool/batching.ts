// Whether a function's calls are batched, and on how many instances: the pool's policy for fast
// functions (pool.ts lends the instances). A function is fast while its calls take under
// FAST_CALL_US on average, as its runtime reports them (StreamResult.us: the handler's own time,
// never the time a call queued). Its calls then fill the busiest instance first, on at most as
// many instances as the host has cores, since a call that waits for its batch costs less than the
// wake-ups of one call per instance (docs/performance.md, round 10). When calls keep waiting
// while the CPUs idle (the function waits on something else), the batch spreads on one more
// instance every sample of the CPU load, and back when the CPUs are busy again.
import { availableParallelism } from 'node:os';
import type { Logger } from '@baetyl/core/log';
import { CallTimes, FAST_CALL_US } from '@baetyl/core/pool';
import { BATCH_DEPTH } from '../config/schema.js';
import { HostCpu } from './host-cpu.js';

/** Answers that tell whether a function is fast: a fresh instance's first calls run cold (3 ms for 0.3 ms of work). */
const MEASURED_CALLS = 3;
/** An average above this (us) says the function is slow without waiting for more answers. */
const SURELY_SLOW_US = 10 * FAST_CALL_US;
/** The calls queued on one instance may take this share of the call deadline, on average. */
const DEADLINE_SHARE = 0.25;

export interface BatchingOptions {
  functionName: string;
  /** Calls an instance takes at once when not batched: batching needs more than 1. */
  concurrency: number;
  /** instance.concurrency when it is set: the batch's depth too. */
  fixedDepth?: number;
  /** The call deadline, ms: a batch is never so deep that its calls would wait a good part of it. */
  timeout: number;
  /** instance.max: the widest a batch gets. */
  max: number;
  log: Logger;
  /** Where the host's CPU load is read (default: /proc/stat every 250 ms). */
  hostCpu?: HostCpu;
}

export class Batching {
  /** The handler times the runtimes report (a timeout counts as the whole deadline). */
  private readonly callTimes = new CallTimes();
  /** How many instances a batch spreads on at first: the host's cores. */
  private readonly spread = Math.max(1, availableParallelism());
  private currentWidth = this.spread;
  /** Set once a runtime answered a call without saying how long it ran (a v1 runtime): it is never batched. */
  private untimed = false;
  /** What active() last found, to log a change. */
  private wasActive = false;
  /** Since when calls have waited for room without a break (undefined: none waits). */
  private waitingSince: number | undefined;
  private readonly hostCpu: HostCpu;

  constructor(private readonly opts: BatchingOptions) {
    this.hostCpu = opts.hostCpu ?? new HostCpu();
  }

  /** How long one call ran in its runtime (us), undefined if the runtime did not say. */
  noteAnswer(us: number | undefined): void {
    if (us === undefined) this.untimed = true;
    else this.callTimes.note(us);
  }

  /** Whether the calls are batched now: the function is fast, and an instance takes several at once. Logged when it changes. */
  active(): boolean {
    const active = this.opts.concurrency > 1 && this.callTimes.fast;
    if (active !== this.wasActive) {
      this.wasActive = active;
      const avg = this.callTimes.averageUs.toFixed(0);
      const fn = this.opts.functionName;
      this.opts.log.debug(
        active
          ? `function (${fn}) is fast (${avg} us a call on average): its calls are batched on up to ${this.currentWidth} instances`
          : `function (${fn}) is no longer fast (${avg} us a call on average): its calls go to idle instances first`,
      );
    }
    return active;
  }

  /** Whether the function's first answers are still awaited: a few, or one clearly slow (a deadline, say). */
  get measuring(): boolean {
    if (this.opts.concurrency <= 1 || this.untimed) return false;
    const { count, averageUs } = this.callTimes;
    return count < MEASURED_CALLS && !(count > 0 && averageUs > SURELY_SLOW_US);
  }

  /**
   * Calls one batched instance takes at once: instance.concurrency when it is set; otherwise
   * BATCH_DEPTH, or fewer (never under the unbatched depth) where so many calls, one after the
   * other at the function's average time, would take more than a quarter of the deadline.
   */
  depth(): number {
    if (this.opts.fixedDepth !== undefined) return this.opts.fixedDepth;
    const fit = Math.floor((this.opts.timeout * 1000 * DEADLINE_SHARE) / Math.max(1, this.callTimes.averageUs));
    return Math.max(this.opts.concurrency, Math.min(BATCH_DEPTH, fit));
  }

  /** How many instances the batch is spread on now. */
  get width(): number {
    return this.currentWidth;
  }

  /**
   * After a dispatch that left `waiting` calls without room: one instance more for the batch when
   * calls waited through a whole sample while at least half a core idled (so the quiet before a
   * flood does not count); one less (down to the core count) when less than a quarter of a core
   * idles. At most once per sample.
   */
  afterDispatch(now: number, waiting: number, active: boolean): void {
    if (waiting === 0) this.waitingSince = undefined;
    else this.waitingSince ??= now;
    if (!active) return;
    const sample = this.hostCpu.sample(now);
    if (!sample && this.hostCpu.readable) return;
    const idleCores = sample ? sample.idle * this.spread : Infinity;
    const was = this.currentWidth;
    const waitedThrough = this.waitingSince !== undefined && (!sample || this.waitingSince <= sample.since);
    if (waitedThrough && idleCores >= 0.5) this.currentWidth = Math.min(this.opts.max, this.currentWidth + 1);
    else if (idleCores < 0.25 && this.currentWidth > this.spread) this.currentWidth--;
    if (this.currentWidth !== was) {
      const why =
        this.currentWidth > was
          ? `calls wait and ${idleCores === Infinity ? 'the CPU load is unknown' : `${idleCores.toFixed(1)} cores idle`}`
          : 'the CPUs are busy';
      this.opts.log.debug(`function (${this.opts.functionName}) is batched on up to ${this.currentWidth} instances: ${why}`);
    }
  }
}
