// One language worker: a child process that loads the handlers once and then runs its calls one at
// a time, in the order they were sent, spoken to over fds 3 (requests) and 4 (answers). Several
// calls may be sent before the first is answered (pipelining): the worker reads them in one go and
// answers each in turn, so a burst costs one wake-up instead of one per call. Its stdout/stderr are the handler's own
// prints; they go to the runtime log line by line and never touch the protocol.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '@baetyl/core/log/logger';
import { encodeFrame, FrameDecoder, FrameError, type Frame } from './framing.js';
import type { CallFrame, InitFrame, WorkerFrame } from './protocol.js';

/** How to start a worker: which program, with what arguments and environment. */
export interface WorkerLaunch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** For log lines: "python 2.7.18", "node". */
  label: string;
}

/** A handler failed to load: the message names the function and the file. */
export class LoadError extends Error {
  override name = 'LoadError';
}

/** The worker process ended (crash, os._exit, killed) before answering. */
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

interface Pending {
  seq: number;
  resolve: (o: CallOutcome) => void;
  reject: (e: Error) => void;
}

let nextSeq = 1;

/** Starts a worker process; it waits for its init frame on fd 3. */
export function spawnWorker(launch: WorkerLaunch): ChildProcess {
  return spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: { ...launch.env, BAETYL_RUNTIME_HOST_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
}

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  version = '';
  private readonly input: Writable;
  private readonly decoder: FrameDecoder;
  /** Calls sent and not answered yet, in the order sent; the first is the one running. */
  private readonly pending: Pending[] = [];
  private corked = false;
  private ready: { resolve: (v: string) => void; reject: (e: Error) => void } | undefined;
  private dead = false;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    private readonly launch: WorkerLaunch,
    private readonly logger: Logger,
    maxFrame: number,
  ) {
    this.decoder = new FrameDecoder(maxFrame);
    this.child = spawnWorker(launch);
    const stdio = this.child.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    this.input = stdio[3];
    const output = stdio[4];
    // A worker that died leaves EPIPE behind on writes; its exit handler reports the failure.
    this.input.on('error', () => undefined);
    output.on('error', () => undefined);
    output.on('data', (chunk: Buffer) => this.onData(chunk));
    this.pipeLines(stdio[1], 'stdout');
    this.pipeLines(stdio[2], 'stderr');
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        // spawn itself failed (interpreter vanished): behave as an exit.
        this.onExit(null, null, err.message);
        resolve({ code: null, signal: null });
      });
      this.child.on('exit', (code, signal) => {
        // 'exit' can come before the last frames (a load error, then exit 1): drain the answer pipe first.
        const finish = () => {
          clearTimeout(timer);
          this.onExit(code, signal);
          resolve({ code, signal });
        };
        const timer = setTimeout(finish, 500);
        if (output.readableEnded || output.destroyed) finish();
        else output.once('close', finish);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Sends the handlers to load; resolves with the interpreter version once all loaded. */
  start(init: InitFrame): Promise<string> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject };
      this.write(encodeFrame(init));
    });
  }

  /** Calls sent and not yet answered. */
  get load(): number {
    return this.pending.length;
  }

  /**
   * Queues one call behind those already sent. Rejects with WorkerExitError if the worker dies
   * first (`started` false for a call that was still waiting its turn).
   */
  call(frame: Omit<CallFrame, 'type' | 'seq'>, payload: Buffer): Promise<CallOutcome> {
    if (this.dead) return Promise.reject(this.exitError(this.pending.length === 0));
    const seq = nextSeq++;
    return new Promise((resolve, reject) => {
      this.pending.push({ seq, resolve, reject });
      const f = frame as CallFrame;
      f.type = 'call';
      f.seq = seq;
      this.write(encodeFrame(f, payload));
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.dead) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Closes the request pipe (the worker exits on EOF), then kills it if it lingers. */
  async stop(graceMs = 1000): Promise<void> {
    if (this.dead) return;
    this.input.end();
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private write(buf: Buffer): void {
    if (!this.input.writable) return;
    // The frames of one event-loop turn leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.input.cork();
      process.nextTick(() => {
        this.corked = false;
        this.input.uncork();
      });
    }
    this.input.write(buf);
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof FrameError) {
        this.logger.error(`worker ${this.pid} broke the pipe protocol: ${err.message}; killing it`);
        this.kill();
        return;
      }
      throw err;
    }
    for (const f of frames) this.onFrame(f.header as WorkerFrame, f.body);
  }

  private onFrame(h: WorkerFrame, body: Buffer): void {
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
        this.logger.log(level, h.msg, { worker: this.pid });
        break;
      }
      case 'result':
      case 'error': {
        // Answers come in the order the calls were sent.
        const p = this.pending[0];
        if (!p || p.seq !== h.seq) {
          this.logger.warn(`worker ${this.pid} answered call ${h.seq}, which it was not running`);
          return;
        }
        this.pending.shift();
        const us = typeof h.us === 'number' ? h.us : undefined;
        p.resolve(
          h.type === 'result' ? { ok: true, payload: body, us } : { ok: false, details: h.details, retire: h.retire === true, expired: h.expired === true, us },
        );
        break;
      }
      default:
        this.logger.warn(`worker ${this.pid} sent an unknown frame type ${JSON.stringify((h as { type: unknown }).type)}`);
    }
  }

  private pipeLines(stream: Readable, name: 'stdout' | 'stderr'): void {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      this.logger.log(name === 'stdout' ? 'info' : 'warn', line, { worker: this.pid, stream: name });
    });
  }

  private exitError(started = true): WorkerExitError {
    const info = this.exitInfo ?? { code: null, signal: null };
    const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
    return new WorkerExitError(`the ${this.launch.label} worker process ${how}`, info.code, info.signal, started);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (this.dead) return;
    this.dead = true;
    this.exitInfo = { code, signal };
    const err = spawnError
      ? new WorkerExitError(`cannot start the ${this.launch.label} worker (${this.launch.command}): ${spawnError}`, null, null)
      : this.exitError();
    this.ready?.reject(err);
    this.ready = undefined;
    // The first call was running; the others had not started.
    const calls = this.pending.splice(0);
    calls.forEach((p, i) => p.reject(i === 0 ? err : new WorkerExitError(err.message, err.code, err.signal, false)));
  }
}
