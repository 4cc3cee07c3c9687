// One Node worker as a thread of the instance process (node:worker_threads): it loads the
// handlers once and runs its calls one at a time, in the order sent (several may be sent before
// the first is answered: pipelining). Messages go through the thread's port as the objects of
// protocol.ts, payloads as bytes. The thread's process.stdout/stderr (the handler's prints) come
// here as streams and go to the runtime log line by line. A call past its deadline is stopped the
// only way arbitrary JavaScript can be: terminate() ends the thread, and the pool starts another.
import { createInterface } from 'node:readline';
import type { Worker } from 'node:worker_threads';
import type { RuntimeLogger } from '../log/logger.js';
import { startThread, type ThreadLaunch } from './launch.js';
import type { CallFrame, InitFrame, WorkerFrame } from './protocol.js';

export type { ThreadLaunch } from './launch.js';

/** A handler failed to load: the message names the function and the file. */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** The worker ended (process.exit in a handler, terminated at a deadline) before answering. */
export class WorkerExitError extends Error {
  override name = 'WorkerExitError';
  constructor(
    message: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    /** False for a call queued behind the one running: it never started, so it can run elsewhere. */
    readonly started = true,
  ) {
    super(message);
  }
}

/** `us`: how long the handler ran, as the worker measured it (absent if it did not say). */
export type CallOutcome =
  | { ok: true; payload: Buffer; us?: number }
  /** `expired`: the worker skipped the call, whose deadline had passed before its turn came. */
  | { ok: false; details: string; retire?: boolean; expired?: boolean; us?: number };

/** The message the thread gets first: the handlers to load, and where. */
export interface ThreadInit extends InitFrame {
  cwd: string;
}

/** A call as posted to the thread: the frame and its payload. */
export type ThreadCall = CallFrame & { body: Uint8Array };

/** What the thread posts back: a frame, and for a result its payload (JSON results as text, the cheapest to post). */
export type ThreadAnswer = WorkerFrame & { body?: Uint8Array; text?: string };

interface Pending {
  seq: number;
  resolve: (o: CallOutcome) => void;
  reject: (e: Error) => void;
}

let nextSeq = 1;

export class WorkerThread {
  readonly worker: Worker;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The thread id (node's worker.threadId), which log lines name the worker by. */
  readonly id: number;
  version = '';
  /** Calls posted and not answered yet, in the order posted; the first is the one running. */
  private readonly pending: Pending[] = [];
  private ready: { resolve: (v: string) => void; reject: (e: Error) => void } | undefined;
  private dead = false;
  private killed = false;
  private exitCode: number | null = null;

  /** `started`: a thread already running `launch` (one started early, host/prespawn.ts); else one is started. */
  constructor(
    private readonly launch: ThreadLaunch,
    private readonly logger: RuntimeLogger,
    started?: Worker,
  ) {
    this.worker = started ?? startThread(launch);
    this.id = this.worker.threadId;
    this.worker.on('message', (m: ThreadAnswer) => this.onMessage(m));
    this.pipeLines(this.worker.stdout, 'stdout');
    this.pipeLines(this.worker.stderr, 'stderr');
    this.exited = new Promise((resolve) => {
      // An error the thread did not handle itself (a failing module evaluation); 'exit' follows.
      this.worker.on('error', (err) => {
        this.logger.error(`worker ${this.id} failed: ${err.stack ?? String(err)}`);
      });
      this.worker.on('exit', (code) => {
        this.onExit(code);
        resolve({ code, signal: null });
      });
    });
  }

  /** Same as id: the pool and its logs name a worker by it. */
  get pid(): number {
    return this.id;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Sends the handlers to load; resolves with the Node version once all loaded. */
  start(init: InitFrame): Promise<string> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject };
      const msg: ThreadInit = { ...init, cwd: this.launch.cwd };
      this.worker.postMessage(msg);
    });
  }

  /** Queues one call behind those already sent; rejects with WorkerExitError if the thread ends first. */
  call(frame: Omit<CallFrame, 'type' | 'seq'>, payload: Buffer): Promise<CallOutcome> {
    if (this.dead) return Promise.reject(this.exitError(this.pending.length === 0));
    const seq = nextSeq++;
    return new Promise((resolve, reject) => {
      this.pending.push({ seq, resolve, reject });
      const msg = frame as ThreadCall;
      msg.type = 'call';
      msg.seq = seq;
      // An exact-size copy: posting a Buffer would copy the whole pooled allocation behind it.
      msg.body = new Uint8Array(payload);
      this.worker.postMessage(msg);
    });
  }

  /** Ends the thread now, whatever it is running (a call past its deadline). */
  kill(): void {
    if (this.dead) return;
    this.killed = true;
    void this.worker.terminate();
  }

  /** Lets the thread finish the call it runs for up to graceMs, then ends it. */
  async stop(graceMs = 1000): Promise<void> {
    if (this.dead) return;
    this.worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(h: ThreadAnswer): void {
    switch (h.type) {
      case 'ready':
        this.version = h.version;
        this.ready?.resolve(h.version);
        this.ready = undefined;
        break;
      case 'load-error':
        this.ready?.reject(new LoadError(h.message));
        this.ready = undefined;
        break;
      case 'log': {
        const level = ['debug', 'info', 'warn', 'error'].includes(h.level) ? h.level : 'info';
        this.logger.log(level, h.msg, { worker: this.id });
        break;
      }
      case 'result':
      case 'error': {
        // Answers come in the order the calls were sent.
        const p = this.pending[0];
        if (!p || p.seq !== h.seq) {
          this.logger.warn(`worker ${this.id} answered call ${h.seq}, which it was not running`);
          return;
        }
        this.pending.shift();
        const us = typeof h.us === 'number' ? h.us : undefined;
        if (h.type === 'result') {
          const b = h.body;
          const payload = h.text !== undefined ? Buffer.from(h.text) : b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : EMPTY;
          p.resolve({ ok: true, payload, us });
        } else p.resolve({ ok: false, details: h.details, retire: h.retire === true, expired: h.expired === true, us });
        break;
      }
      default:
        this.logger.warn(`worker ${this.id} sent an unknown message type ${JSON.stringify((h as { type: unknown }).type)}`);
    }
  }

  private pipeLines(stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.logger.log(name === 'stdout' ? 'info' : 'warn', line, { worker: this.id, stream: name });
    });
  }

  private exitError(started = true): WorkerExitError {
    const how = this.killed ? 'was stopped' : `exited with code ${this.exitCode}`;
    return new WorkerExitError(`the ${this.launch.label} worker thread ${how}`, this.exitCode, null, started);
  }

  private onExit(code: number): void {
    if (this.dead) return;
    this.dead = true;
    this.exitCode = code;
    const err = this.exitError();
    this.ready?.reject(err);
    this.ready = undefined;
    // The first call was running; the others had not started.
    const calls = this.pending.splice(0);
    calls.forEach((p, i) => p.reject(i === 0 ? err : new WorkerExitError(err.message, err.code, err.signal, false)));
  }
}

const EMPTY = Buffer.alloc(0);
