// The worker pool behind a node85 runtime instance: its workers are threads of the instance
// process (thread.ts). A worker runs its calls one at a time, in order. Calls go to an idle worker
// first. When none is idle and the function is fast (its calls take under `fastUs` on average, as
// the workers measure them), calls are pipelined: sent to a busy worker (up to `depth` queued on
// it) whose running call is younger than `stallMs`, so that a burst reaches a worker at once and is
// answered without a wake-up per call. Otherwise calls wait in the pool (FIFO) and the pool starts
// more workers, up to `max`, so slow handlers run in parallel. A call that passes its deadline
// while running ends its worker's thread (terminate(): the only way to stop arbitrary user code)
// and a fresh one replaces it; the calls queued behind it had not started and run on another
// worker. A call whose deadline passes while queued is answered DEADLINE_EXCEEDED at once, and the
// worker skips it. A worker that crashes is replaced the same way. A user exception is just an
// answer: the worker stays.
// Which worker a call goes to, and how many workers to start, follow the rules both pools of the
// call path share, in their words (@baetyl/core/pool).
import type { Worker } from 'node:worker_threads';
import { cannotStartWorker, killedAtDeadline, NO_WORKER_IN_TIME, RUNTIME_STOPPING, workerCrashed } from '@baetyl/core/function/errors';
import type { FunctionMessage } from '@baetyl/core/function/message';
import { CallTimes, FAST_CALL_US, membersToStart, pickMember, type MemberView } from '@baetyl/core/pool';
import type { RuntimeLogger } from '../log/logger.js';
import { status } from '../grpc/status.js';
import { deadlineExceeded, type CallResult, type Executor } from './executor.js';
import type { FunctionSpec } from './protocol.js';
import { LoadError, WorkerExitError, WorkerThread, type CallOutcome, type ThreadLaunch } from './thread.js';

/** A worker as the pool drives it: a thread of this process. */
type PoolWorker = WorkerThread;

/** Calls sent to one worker before its first is answered, when `depth` is not set. */
export const DEFAULT_PIPELINE_DEPTH = 16;
/** A worker whose running call is older than this (ms) gets no more calls, when `stallMs` is not set. */
export const DEFAULT_STALL_MS = 20;
/** Calls are pipelined only while the function's average call takes less than this (us): the manager's threshold too. */
export const DEFAULT_FAST_US = FAST_CALL_US;

export interface PoolOptions {
  runtime: string;
  functions: FunctionSpec[];
  /** Called for every new worker, so a launch can pick up fresh settings. */
  launch: () => ThreadLaunch;
  /** A thread already started for this launch, to use instead of starting one (host/prespawn.ts). */
  takeStarted?: (launch: ThreadLaunch) => Worker | undefined;
  /** Most workers at once (calls in parallel). */
  max: number;
  /** Workers beyond the first are stopped after this long idle. */
  idleMs: number;
  /** The text a caller sees for an unknown function name. */
  notFoundDetails: string;
  logger: RuntimeLogger;
  /** Calls queued on one worker at most (1 = no pipelining). */
  depth?: number;
  /** See DEFAULT_STALL_MS. */
  stallMs?: number;
  /** See DEFAULT_FAST_US. */
  fastUs?: number;
}

/** One call, from its arrival until it is answered. */
interface Job {
  msg: FunctionMessage;
  deadline: number;
  /** Arrival order: a call that goes back to the queue keeps its place. */
  order: number;
  resolve: (r: CallResult) => void;
  /** Answered (possibly while still queued on a worker, which will skip it). */
  done: boolean;
  /** Its worker was killed because this call passed its deadline. */
  timedOut: boolean;
  /** Only while it waits in the pool's queue. */
  timer: NodeJS.Timeout | undefined;
}

/** What the pool knows about one worker. */
interface Slot {
  worker: PoolWorker;
  /** Calls sent to it and not answered, in order; the first is running. */
  jobs: Job[];
  /** When its first job started running (ms). */
  headSince: number;
  lastUsed: number;
  /** Deadline timer, armed for the earliest deadline among its jobs. */
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Gets no new calls (stopping, or told us it will exit). */
  retired: boolean;
}

let nextOrder = 0;

export class WorkerPool implements Executor {
  private readonly slots = new Map<PoolWorker, Slot>();
  private readonly waiting: Job[] = [];
  private readonly names: Set<string>;
  private readonly depth: number;
  private readonly stallMs: number;
  /** Moving average of a call's run time in the worker (us); unknown (Infinity) until measured. */
  private readonly callTimes: CallTimes;
  private starting = 0;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {
    this.names = new Set(opts.functions.map((f) => f.name));
    this.depth = Math.max(1, opts.depth ?? DEFAULT_PIPELINE_DEPTH);
    this.stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
    this.callTimes = new CallTimes(opts.fastUs ?? DEFAULT_FAST_US);
  }

  /** Starts the first worker; its handlers loading is the runtime's start check. */
  async start(): Promise<void> {
    const w = await this.startOne();
    this.addReady(w);
  }

  get size(): number {
    return this.slots.size;
  }

  /** The pids (threads: thread ids) of the live workers (tests and inspection). */
  pids(): number[] {
    return [...this.slots.keys()].map((w) => w.pid).filter((p): p is number => p !== undefined);
  }

  call(msg: FunctionMessage, deadline: number): Promise<CallResult> {
    if (!this.names.has(msg.FunctionName)) return Promise.resolve({ ok: false, code: status.UNKNOWN, details: this.opts.notFoundDetails });
    if (this.closed) return Promise.resolve({ ok: false, code: status.UNAVAILABLE, details: RUNTIME_STOPPING });
    return new Promise((resolve) => {
      const job: Job = { msg, deadline, order: nextOrder++, resolve, done: false, timedOut: false, timer: undefined };
      this.enqueue(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) this.answer(job, { ok: false, code: status.UNAVAILABLE, details: RUNTIME_STOPPING });
    for (const slot of this.slots.values()) {
      if (slot.idleTimer) clearTimeout(slot.idleTimer);
      if (slot.timer) clearTimeout(slot.timer);
    }
    await Promise.all([...this.slots.keys()].map((w) => w.stop()));
  }

  /** Puts a job in the pool's queue, in arrival order, with a timer for its deadline. */
  // deadline layer: waiting for a worker (@baetyl/core/function/deadlines.ts).
  private enqueue(job: Job): void {
    let i = this.waiting.length;
    while (i > 0 && this.waiting[i - 1]!.order > job.order) i--;
    this.waiting.splice(i, 0, job);
    if (Number.isFinite(job.deadline) && !job.timer) {
      job.timer = setTimeout(
        () => {
          job.timer = undefined;
          const at = this.waiting.indexOf(job);
          if (at >= 0) this.waiting.splice(at, 1);
          this.answer(job, deadlineExceeded(NO_WORKER_IN_TIME));
        },
        Math.max(0, job.deadline - Date.now()),
      );
    }
  }

  /** Sends waiting jobs to workers with room; starts a worker when jobs are left waiting. */
  private dispatch(): void {
    if (this.closed) return;
    const now = Date.now();
    while (this.waiting.length > 0) {
      const w = this.pick(now);
      if (!w) {
        this.grow();
        return;
      }
      const job = this.waiting.shift()!;
      if (job.timer) {
        clearTimeout(job.timer);
        job.timer = undefined;
      }
      this.send(w, job, now);
    }
  }

  /**
   * The worker for the next call (pickMember's rule): an idle one, else, for a fast function, the
   * least loaded busy worker that is not stalled (pipelining).
   */
  private pick(now: number): PoolWorker | undefined {
    this.pickAt = now;
    this.pipelining = this.depth > 1 && this.callTimes.fast;
    return pickMember(this.slots.values(), this.view)?.worker;
  }

  /** Set by pick() for the view below. */
  private pickAt = 0;
  private pipelining = false;
  private readonly view: MemberView<Slot> = {
    load: (slot) => slot.jobs.length,
    lastUsed: (slot) => slot.lastUsed,
    hasRoom: (slot, load) => this.pipelining && load < this.depth && this.pickAt - slot.headSince <= this.stallMs,
    usable: (slot) => !slot.retired && slot.worker.alive,
  };

  private send(w: PoolWorker, job: Job, now: number): void {
    const slot = this.slots.get(w)!;
    if (slot.jobs.length === 0) {
      slot.headSince = now;
      if (slot.idleTimer) {
        clearTimeout(slot.idleTimer);
        slot.idleTimer = undefined;
      }
    }
    slot.jobs.push(job);
    this.armDeadline(w, slot, job.deadline);
    const m = job.msg;
    const frame = {
      fn: m.FunctionName,
      id: m.ID,
      qos: m.QOS,
      topic: m.Topic,
      ts: m.Timestamp,
      invokeId: m.FunctionInvokeID,
      ...(Number.isFinite(job.deadline) ? { deadline: job.deadline } : {}),
    };
    w.call(frame, m.Payload).then(
      (out) => this.onAnswer(w, job, out),
      (err: unknown) => this.onLost(w, job, err),
    );
  }

  private onAnswer(w: PoolWorker, job: Job, out: CallOutcome): void {
    if (out.us !== undefined) this.callTimes.note(out.us);
    const slot = this.slots.get(w);
    if (slot) {
      const i = slot.jobs.indexOf(job);
      if (i >= 0) slot.jobs.splice(i, 1);
      slot.headSince = slot.lastUsed = Date.now();
      if (!out.ok && out.retire) {
        // The worker exits after this answer; what is queued on it runs elsewhere (see onLost).
        slot.retired = true;
        void w.stop();
      }
    }
    if (out.ok) this.answer(job, out);
    else if (out.expired) this.answer(job, deadlineExceeded(NO_WORKER_IN_TIME));
    else this.answer(job, { ok: false, code: status.UNKNOWN, details: out.details, ...(out.us !== undefined ? { us: out.us } : {}) });
    if (slot && slot.jobs.length === 0 && !slot.retired) this.becameIdle(w, slot);
    this.dispatch();
  }

  /** The worker died with this job sent to it. */
  private onLost(w: PoolWorker, job: Job, err: unknown): void {
    const slot = this.slots.get(w);
    if (slot) {
      const i = slot.jobs.indexOf(job);
      if (i >= 0) slot.jobs.splice(i, 1);
    }
    if (job.done) return;
    const name = job.msg.FunctionName;
    if (err instanceof WorkerExitError && !err.started) {
      // It never ran: it keeps its place in the queue and runs on another worker.
      if (job.deadline <= Date.now()) this.answer(job, deadlineExceeded(NO_WORKER_IN_TIME));
      else {
        this.enqueue(job);
        this.dispatch();
      }
      return;
    }
    if (job.timedOut) {
      this.answer(job, deadlineExceeded(killedAtDeadline(name)));
      return;
    }
    const why = err instanceof WorkerExitError ? err.message : String(err);
    this.opts.logger.error(`function "${name}" crashed its worker: ${why}`, { invokeid: job.msg.FunctionInvokeID });
    this.answer(job, { ok: false, code: status.INTERNAL, details: workerCrashed(why, name) });
  }

  private answer(job: Job, r: CallResult): void {
    if (job.done) return;
    job.done = true;
    if (job.timer) {
      clearTimeout(job.timer);
      job.timer = undefined;
    }
    job.resolve(r);
  }

  /** Makes sure the worker's timer fires by `deadline` (one timer per worker, not per call). */
  private armDeadline(w: PoolWorker, slot: Slot, deadline: number): void {
    if (!Number.isFinite(deadline) || (slot.timer && slot.timerAt <= deadline)) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timerAt = deadline;
    slot.timer = setTimeout(() => this.onDeadline(w, slot), Math.max(0, deadline - Date.now()));
  }

  /** Some job of the worker reached its deadline: kill it if it is running, answer it if it is queued. */
  // deadline layers: handler kill, and waiting for a worker for the calls queued behind it (@baetyl/core/function/deadlines.ts).
  private onDeadline(w: PoolWorker, slot: Slot): void {
    slot.timer = undefined;
    const now = Date.now();
    let next = Infinity;
    slot.jobs.forEach((job, i) => {
      if (job.deadline > now) {
        if (!job.done || i === 0) next = Math.min(next, job.deadline);
        return;
      }
      if (i === 0) {
        if (!job.timedOut && w.alive) {
          job.timedOut = true;
          this.opts.logger.warn(`function "${job.msg.FunctionName}" passed its deadline: killing worker ${w.pid}`, { invokeid: job.msg.FunctionInvokeID });
          w.kill();
        }
      } else {
        // Queued behind a call still running: it never started, and the worker will skip it.
        this.answer(job, deadlineExceeded(NO_WORKER_IN_TIME));
      }
    });
    if (Number.isFinite(next)) this.armDeadline(w, slot, next);
  }

  /** Starts more workers if calls are waiting and there is room (one call each: a worker's own queue is for pipelining). */
  private grow(): void {
    if (this.closed) return;
    for (let n = membersToStart(this.waiting.length, this.starting, 1, this.opts.max - this.slots.size - this.starting); n > 0; n--) this.growOne();
  }

  private growOne(): void {
    this.startOne().then(
      (w) => this.addReady(w),
      (err: Error) => {
        this.opts.logger.error(cannotStartWorker(err.message));
        // With no worker at all, waiting calls would wait forever: fail them with the reason.
        if (this.slots.size === 0 && this.starting === 0) {
          for (const job of this.waiting.splice(0)) this.answer(job, { ok: false, code: status.UNAVAILABLE, details: cannotStartWorker(err.message) });
        }
      },
    );
  }

  private async startOne(): Promise<PoolWorker> {
    this.starting++;
    let w: PoolWorker | undefined;
    try {
      const launch = this.opts.launch();
      w = new WorkerThread(launch, this.opts.logger, this.opts.takeStarted?.(launch));
      const version = await w.start({ type: 'init', runtime: this.opts.runtime, functions: this.opts.functions });
      this.opts.logger.debug(`worker ${w.pid} ready (${version})`);
    } catch (err) {
      this.starting--;
      w?.kill();
      if (err instanceof LoadError || err instanceof WorkerExitError) throw err;
      throw new WorkerExitError(String((err as Error).message ?? err), null, null);
    }
    this.starting--;
    return w;
  }

  /** A started worker joins the pool. */
  private addReady(w: PoolWorker): void {
    if (this.closed || !w.alive) {
      void w.stop();
      return;
    }
    const now = Date.now();
    this.slots.set(w, { worker: w, jobs: [], headSince: now, lastUsed: now, timer: undefined, timerAt: Infinity, idleTimer: undefined, retired: false });
    void w.exited.then(() => this.onWorkerExit(w));
    this.becameIdle(w, this.slots.get(w)!);
    this.dispatch();
  }

  private onWorkerExit(w: PoolWorker): void {
    const slot = this.slots.get(w);
    this.slots.delete(w);
    if (slot?.idleTimer) clearTimeout(slot.idleTimer);
    if (slot?.timer) clearTimeout(slot.timer);
    if (this.closed) return;
    // Keep one worker warm, and serve whoever is waiting.
    if (this.waiting.length > 0) this.grow();
    else if (this.slots.size + this.starting === 0) {
      this.startOne().then(
        (nw) => this.addReady(nw),
        (err: Error) => this.opts.logger.error(`cannot start a replacement worker: ${err.message}`),
      );
    }
  }

  /** Workers beyond the first are stopped after idleMs without a call. */
  private becameIdle(w: PoolWorker, slot: Slot): void {
    if (this.slots.size <= 1 || slot.idleTimer) return;
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = undefined;
      if (slot.jobs.length > 0 || slot.retired || this.slots.size <= 1) return;
      slot.retired = true;
      this.opts.logger.debug(`stopping idle worker ${w.pid}`);
      void w.stop();
    }, this.opts.idleMs);
    slot.idleTimer.unref();
  }
}
