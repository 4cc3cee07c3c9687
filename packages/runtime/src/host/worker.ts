// One language worker: a child process that loads the handlers once and then runs one call at a
// time, spoken to over fds 3 (requests) and 4 (answers). Its stdout/stderr are the handler's own
// prints; they go to the runtime log line by line and never touch the protocol.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '@baetyl/core';
import { encodeFrame, FrameDecoder, FrameError, type Frame } from './framing.js';
import { takePrespawned } from './prespawn.js';
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
  ) {
    super(message);
  }
}

export type CallOutcome = { ok: true; payload: Buffer } | { ok: false; details: string; retire?: boolean };

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
  private pending: Pending | undefined;
  private ready: { resolve: (v: string) => void; reject: (e: Error) => void } | undefined;
  private dead = false;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    private readonly launch: WorkerLaunch,
    private readonly logger: Logger,
    maxFrame: number,
  ) {
    this.decoder = new FrameDecoder(maxFrame);
    this.child = takePrespawned(launch) ?? spawnWorker(launch);
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

  /** Runs one call. Rejects with WorkerExitError if the worker dies first. */
  call(frame: Omit<CallFrame, 'type' | 'seq'>, payload: Buffer): Promise<CallOutcome> {
    if (this.dead) return Promise.reject(this.exitError());
    if (this.pending) return Promise.reject(new Error('worker is busy'));
    const seq = nextSeq++;
    return new Promise((resolve, reject) => {
      this.pending = { seq, resolve, reject };
      this.write(encodeFrame({ ...frame, type: 'call', seq }, payload));
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
        const p = this.pending;
        if (!p || p.seq !== h.seq) {
          this.logger.warn(`worker ${this.pid} answered call ${h.seq}, which it was not running`);
          return;
        }
        this.pending = undefined;
        p.resolve(h.type === 'result' ? { ok: true, payload: body } : { ok: false, details: h.details, retire: h.retire === true });
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

  private exitError(): WorkerExitError {
    const info = this.exitInfo ?? { code: null, signal: null };
    const how = info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
    return new WorkerExitError(`the ${this.launch.label} worker process ${how}`, info.code, info.signal);
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
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }
}
