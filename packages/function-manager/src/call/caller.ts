// How the manager calls one runtime instance. A unary baetyl.Function/Call costs an HTTP/2 stream
// per message (headers, metadata, trailers on both sides), more than the function itself. Our
// runtimes also serve baetyl.FunctionStream/Calls (protos/function-stream.proto): one stream per
// instance carries every call, answered by seq as they finish. The caller opens that stream on
// first use and sends calls on it; if the runtime answers UNIMPLEMENTED (any other v1 runtime), it
// sends them, and all later ones, as unary Calls instead.
import * as grpc from '@grpc/grpc-js';
import { CLIENT_DEADLINE, openFunctionStream, type FunctionClient, type FunctionMessage, type StreamCall, type StreamResult } from '@baetyl/core/function';

/** What a failed call rejects with: the shape of grpc-js's ServiceError that the pool reads. */
export class CallError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${code} ${grpc.status[code] ?? ''}: ${details}`);
    this.name = 'CallError';
  }
}

interface Pending {
  msg: FunctionMessage;
  timeout: number;
  deadline: number;
  resolve: (m: FunctionMessage) => void;
  reject: (e: Error) => void;
}

export class InstanceCaller {
  private mode: 'stream' | 'unary' = 'stream';
  private stream: grpc.ClientDuplexStream<StreamCall, StreamResult> | undefined;
  /** Calls sent on the stream and not answered, in the order sent. */
  private readonly pending = new Map<number, Pending>();
  private nextSeq = 1;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly client: FunctionClient,
    /**
     * Told of every answer: how long the call ran in the runtime (StreamResult.us), microseconds;
     * a timeout counts as its whole deadline; undefined for a success the runtime did not time (a
     * v1 runtime, over unary Calls).
     */
    private readonly onAnswer?: (us: number | undefined) => void,
  ) {}

  /** One call with a deadline `timeout` ms away; rejects with a CallError (or grpc's ServiceError). */
  /** deadline layer: function call (@baetyl/core/function/deadlines.ts). */
  call(msg: FunctionMessage, timeout: number): Promise<FunctionMessage> {
    if (this.mode === 'unary' || this.closed) return this.unary(msg, timeout);
    return new Promise((resolve, reject) => {
      const seq = this.nextSeq++;
      const p: Pending = { msg, timeout, deadline: Date.now() + timeout, resolve, reject };
      this.pending.set(seq, p);
      this.open().write({ seq, timeout, msg });
      if (!this.timer) this.armTimer(p.deadline);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
    this.failAll(new CallError(grpc.status.CANCELLED, 'the instance is stopping'));
  }

  private unary(msg: FunctionMessage, timeout: number): Promise<FunctionMessage> {
    return new Promise((resolve, reject) => {
      this.client.Call(msg, { deadline: Date.now() + timeout }, (err, res) => {
        if (err?.code === grpc.status.DEADLINE_EXCEEDED) this.onAnswer?.(timeout * 1000);
        else if (!err) this.onAnswer?.(undefined);
        if (err) reject(err);
        else resolve(res ?? { ...msg, Payload: Buffer.alloc(0) });
      });
    });
  }

  private open(): grpc.ClientDuplexStream<StreamCall, StreamResult> {
    if (this.stream) return this.stream;
    const stream = openFunctionStream(this.client);
    this.stream = stream;
    stream.on('data', (r: StreamResult) => this.onResult(r));
    stream.on('error', (err: grpc.ServiceError) => this.onEnd(stream, err));
    // The runtime ended the stream without an error (it is stopping): what was not answered fails.
    stream.on('end', () => this.onEnd(stream, undefined));
    return stream;
  }

  private onResult(r: StreamResult): void {
    const p = this.pending.get(r.seq);
    // An answer after the deadline: the caller has had DEADLINE_EXCEEDED already.
    if (!p) return;
    this.pending.delete(r.seq);
    if (r.us) this.onAnswer?.(r.us);
    else if (r.code === grpc.status.DEADLINE_EXCEEDED) this.onAnswer?.(p.timeout * 1000);
    else if (r.code === 0) this.onAnswer?.(undefined);
    if (r.code === 0) p.resolve({ ...p.msg, Payload: r.payload });
    else p.reject(new CallError(r.code, r.details));
  }

  private onEnd(stream: grpc.ClientDuplexStream<StreamCall, StreamResult>, err: grpc.ServiceError | undefined): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    if (err?.code === grpc.status.UNIMPLEMENTED) {
      // Not one of our runtimes: it never ran these calls; send them the v1 way.
      this.mode = 'unary';
      const calls = [...this.pending.values()];
      this.pending.clear();
      for (const p of calls) {
        const left = p.deadline - Date.now();
        if (left <= 0) p.reject(new CallError(grpc.status.DEADLINE_EXCEEDED, CLIENT_DEADLINE));
        else this.unary(p.msg, left).then(p.resolve, p.reject);
      }
      return;
    }
    this.failAll(err ? new CallError(err.code, err.details || err.message) : new CallError(grpc.status.UNAVAILABLE, 'the runtime ended the call stream'));
  }

  private failAll(err: CallError): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const p of calls) p.reject(err);
  }

  /**
   * One timer for all the calls on the stream. They all get the pool's timeout, so the first one
   * pending is the first to expire; when the timer fires it fails the expired ones and re-arms.
   */
  private armTimer(at: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [seq, p] of this.pending) {
      if (p.deadline > now) {
        this.armTimer(p.deadline);
        return;
      }
      this.pending.delete(seq);
      this.onAnswer?.(p.timeout * 1000);
      // grpc-js's text for a deadline the client enforced (worded the Go way by goDetails).
      p.reject(new CallError(grpc.status.DEADLINE_EXCEEDED, CLIENT_DEADLINE));
    }
  }
}
