// The worker pool behind a python or node runtime instance. Each worker runs one call at a time;
// up to `max` workers run calls in parallel, further calls wait in FIFO order until a worker is
// free or their deadline passes. A call that passes its deadline kills its worker (the only way
// to stop arbitrary user code) and a fresh one replaces it; so does a worker that crashes. A user
// exception is just an answer: the worker stays.
import { status } from '@grpc/grpc-js';
import type { FunctionMessage, Logger } from '@baetyl/core';
import { deadlineExceeded, type CallResult, type Executor } from './executor.js';
import type { FunctionSpec } from './protocol.js';
import { LoadError, WorkerExitError, WorkerProcess, type WorkerLaunch } from './worker.js';

export interface PoolOptions {
  runtime: string;
  functions: FunctionSpec[];
  /** Called for every new worker, so a launch can pick up fresh settings. */
  launch: () => WorkerLaunch;
  /** Most workers at once (calls in parallel). */
  max: number;
  /** Workers beyond the first are stopped after this long idle. */
  idleMs: number;
  /** Largest frame a worker may send (the gRPC message limit plus room for the header). */
  maxFrame: number;
  /** The text a caller sees for an unknown function name. */
  notFoundDetails: string;
  logger: Logger;
}

interface Waiter {
  resolve: (w: WorkerProcess | CallResult) => void;
  timer: NodeJS.Timeout | undefined;
}

export class WorkerPool implements Executor {
  private readonly live = new Set<WorkerProcess>();
  private readonly idle: WorkerProcess[] = [];
  private readonly idleTimers = new Map<WorkerProcess, NodeJS.Timeout>();
  private readonly waiters: Waiter[] = [];
  private readonly names: Set<string>;
  private starting = 0;
  private closed = false;

  constructor(private readonly opts: PoolOptions) {
    this.names = new Set(opts.functions.map((f) => f.name));
  }

  /** Starts the first worker; its handlers loading is the runtime's start check. */
  async start(): Promise<void> {
    const w = await this.spawn();
    this.release(w);
  }

  get size(): number {
    return this.live.size;
  }

  /** The pids of the live workers (tests and inspection). */
  pids(): number[] {
    return [...this.live].map((w) => w.pid).filter((p): p is number => p !== undefined);
  }

  async call(msg: FunctionMessage, deadline: number): Promise<CallResult> {
    if (!this.names.has(msg.FunctionName)) return { ok: false, code: status.UNKNOWN, details: this.opts.notFoundDetails };
    if (this.closed) return { ok: false, code: status.UNAVAILABLE, details: 'the runtime is stopping' };
    const got = await this.acquire(deadline);
    if (!(got instanceof WorkerProcess)) return got;
    return this.run(got, msg, deadline);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve({ ok: false, code: status.UNAVAILABLE, details: 'the runtime is stopping' });
    }
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    await Promise.all([...this.live].map((w) => w.stop()));
  }

  private async run(w: WorkerProcess, msg: FunctionMessage, deadline: number): Promise<CallResult> {
    let timedOut = false;
    const remaining = deadline - Date.now();
    const timer = Number.isFinite(deadline)
      ? setTimeout(() => {
          timedOut = true;
          this.opts.logger.warn(`function "${msg.FunctionName}" passed its deadline: killing worker ${w.pid}`, { invokeid: msg.FunctionInvokeID });
          w.kill('SIGKILL');
        }, Math.max(0, remaining))
      : undefined;
    try {
      const out = await w.call(
        { fn: msg.FunctionName, id: msg.ID, qos: msg.QOS, topic: msg.Topic, ts: msg.Timestamp, invokeId: msg.FunctionInvokeID },
        msg.Payload,
      );
      clearTimeout(timer);
      if (!out.ok && out.retire) void w.stop();
      else this.release(w);
      return out.ok ? out : { ok: false, code: status.UNKNOWN, details: out.details };
    } catch (err) {
      clearTimeout(timer);
      if (timedOut) return deadlineExceeded(`function "${msg.FunctionName}" did not finish in time; its worker was replaced`);
      const why = err instanceof WorkerExitError ? err.message : String(err);
      this.opts.logger.error(`function "${msg.FunctionName}" crashed its worker: ${why}`, { invokeid: msg.FunctionInvokeID });
      return { ok: false, code: status.INTERNAL, details: `Exception calling application: ${why} while running function "${msg.FunctionName}"; the worker was replaced` };
    }
  }

  private acquire(deadline: number): Promise<WorkerProcess | CallResult> {
    const w = this.idle.pop();
    if (w) {
      this.clearIdle(w);
      return Promise.resolve(w);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, timer: undefined };
      if (Number.isFinite(deadline)) {
        waiter.timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(deadlineExceeded('no worker became free before the deadline'));
        }, Math.max(0, deadline - Date.now()));
      }
      this.waiters.push(waiter);
      this.grow();
    });
  }

  /** Starts another worker if calls are waiting and there is room. */
  private grow(): void {
    if (this.closed) return;
    if (this.waiters.length <= this.starting) return;
    if (this.live.size + this.starting >= this.opts.max) return;
    this.spawn().then(
      (w) => this.release(w),
      (err: Error) => {
        this.opts.logger.error(`cannot start a worker: ${err.message}`);
        // With no worker at all, waiting calls would wait forever: fail them with the reason.
        if (this.live.size === 0 && this.starting === 0) {
          for (const waiter of this.waiters.splice(0)) {
            if (waiter.timer) clearTimeout(waiter.timer);
            waiter.resolve({ ok: false, code: status.UNAVAILABLE, details: `cannot start a worker: ${err.message}` });
          }
        }
      },
    );
  }

  private async spawn(): Promise<WorkerProcess> {
    this.starting++;
    let w: WorkerProcess | undefined;
    try {
      w = new WorkerProcess(this.opts.launch(), this.opts.logger, this.opts.maxFrame);
      const version = await w.start({ type: 'init', runtime: this.opts.runtime, functions: this.opts.functions });
      this.opts.logger.debug(`worker ${w.pid} ready (${version})`);
    } catch (err) {
      this.starting--;
      w?.kill();
      if (err instanceof LoadError || err instanceof WorkerExitError) throw err;
      throw new WorkerExitError(String((err as Error).message ?? err), null, null);
    }
    this.starting--;
    this.live.add(w);
    const worker = w;
    void worker.exited.then(() => this.onWorkerExit(worker));
    return w;
  }

  private onWorkerExit(w: WorkerProcess): void {
    this.live.delete(w);
    this.clearIdle(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.closed) return;
    // Keep one worker warm, and serve whoever is waiting.
    if (this.waiters.length > 0) this.grow();
    else if (this.live.size + this.starting === 0) {
      this.spawn().then(
        (nw) => this.release(nw),
        (err: Error) => this.opts.logger.error(`cannot start a replacement worker: ${err.message}`),
      );
    }
  }

  private release(w: WorkerProcess): void {
    if (!w.alive) return;
    if (this.closed) {
      void w.stop();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(w);
      return;
    }
    this.idle.push(w);
    if (this.live.size > 1) {
      const t = setTimeout(() => {
        this.idleTimers.delete(w);
        const i = this.idle.indexOf(w);
        if (i < 0 || this.live.size <= 1) return;
        this.idle.splice(i, 1);
        this.opts.logger.debug(`stopping idle worker ${w.pid}`);
        void w.stop();
      }, this.opts.idleMs);
      t.unref();
      this.idleTimers.set(w, t);
    }
  }

  private clearIdle(w: WorkerProcess): void {
    const t = this.idleTimers.get(w);
    if (t) clearTimeout(t);
    this.idleTimers.delete(w);
  }
}
