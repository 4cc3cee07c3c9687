// The messages the host and a node85 worker thread (src/node/worker.ts) exchange through the
// thread's port (host/thread.ts). The python runtimes have their own (python/baetyl_runtime/pipe.py).
/** Every message is an object with a `type` saying what it is. */
export interface FrameHeader {
  type: string;
  [key: string]: unknown;
}

/** One function as the runtime's service.yml declares it. */
export interface FunctionSpec {
  name: string;
  handler: string;
  codedir: string;
}

/** host -> worker, once: load these handlers, answer `ready` or `load-error`. */
export interface InitFrame extends FrameHeader {
  type: 'init';
  runtime: string;
  functions: FunctionSpec[];
}

/** host -> worker: run one call after those sent before it; the body is the input payload. */
export interface CallFrame extends FrameHeader {
  type: 'call';
  seq: number;
  fn: string;
  id: number;
  qos: number;
  topic: string;
  ts: number;
  invokeId: string;
  /** Epoch ms after which the worker must not start the call (it answers `expired` instead); absent = none. */
  deadline?: number;
}

/** worker -> host: every handler loaded. */
export interface ReadyFrame extends FrameHeader {
  type: 'ready';
  version: string;
}

/** worker -> host: a handler could not be loaded; the worker exits after sending it. */
export interface LoadErrorFrame extends FrameHeader {
  type: 'load-error';
  message: string;
}

/** worker -> host: the call succeeded; the body is the result payload (empty = publish nothing). */
export interface ResultFrame extends FrameHeader {
  type: 'result';
  seq: number;
  /** Microseconds the handler ran (the pool pipelines calls of fast functions only). */
  us?: number;
}

/** worker -> host: the call failed; `details` is the gRPC status text the caller sees. */
export interface ErrorFrame extends FrameHeader {
  type: 'error';
  seq: number;
  details: string;
  /** The worker is about to exit (its state is not trustworthy): do not give it another call. */
  retire?: boolean;
  /** The call was not run: its deadline had passed when its turn came. */
  expired?: boolean;
  us?: number;
}

/** worker -> host: a line for the runtime log (tracebacks of user errors). */
export interface LogFrame extends FrameHeader {
  type: 'log';
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
}

export type WorkerFrame = ReadyFrame | LoadErrorFrame | ResultFrame | ErrorFrame | LogFrame;
