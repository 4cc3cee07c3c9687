// The gRPC face of a runtime instance: baetyl.Function/Call, answered with the request message
// whose Payload is replaced by the result (Baetyl v1 §4.1), and baetyl.FunctionStream/Calls, many
// calls on one stream. Served by the node:http2 server in ../grpc; language work happens in an Executor.
import { readFileSync } from 'node:fs';
import type { RuntimeLogger } from '../log/logger.js';
import { decodeFunctionMessage, encodeFunctionMessage } from '@baetyl/core/function/codec';
import { resultTooLarge, RUNTIME_STOPPING, tooManyCalls } from '@baetyl/core/function/errors';
import type { FunctionMessage } from '@baetyl/core/function/message';
import { decodeStreamCall, encodeStreamResult, FUNCTION_STREAM_PATH, type StreamResult } from '@baetyl/core/function/stream';
import { listenGrpc } from '../grpc/server.js';
import { status } from '../grpc/status.js';
import type { CallResult, Executor } from './executor.js';

export interface ServerOptions {
  /** host:port (a leading tcp:// is accepted), or unix:path. */
  address: string;
  /** Cap on every call, on top of the caller's own deadline (ms). */
  timeoutMs?: number;
  /** Calls in flight (running or waiting for a worker) beyond which new calls are refused. */
  concurrentMax?: number;
  maxMessageLength: number;
  tls?: { ca?: string; key: string; cert: string };
  logger: RuntimeLogger;
}

export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  address: string;
  /** Stops accepting calls, lets running ones finish for up to graceMs, then cuts them. */
  close(graceMs?: number): Promise<void>;
}

export const FUNCTION_CALL_PATH = '/baetyl.Function/Call';

/** Turns Baetyl's address forms into gRPC's (`unix:path` for sockets). */
export function bindAddress(address: string): string {
  if (address.startsWith('tcp://')) return address.slice('tcp://'.length);
  if (address.startsWith('unix:///')) return `unix:${address.slice('unix://'.length)}`;
  if (address.startsWith('unix://')) return `unix:${address.slice('unix://'.length)}`;
  return address;
}

function readTls(tls: NonNullable<ServerOptions['tls']>): { ca?: Buffer; key: Buffer; cert: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read server.${what} "${file}": ${(err as Error).message}`);
    }
  };
  return { key: read(tls.key, 'key'), cert: read(tls.cert, 'cert'), ...(tls.ca ? { ca: read(tls.ca, 'ca') } : {}) };
}

const EMPTY = Buffer.alloc(0);

export async function serveFunctions(executor: Executor, opts: ServerOptions): Promise<RunningServer> {
  let inFlight = 0;
  /** Set by close(): new calls are refused, open streams end once their running calls are answered. */
  let closing = false;
  const streams = new Set<() => void>();
  // Per-call debug lines cost an object and a clock read each: decided once.
  const debug = opts.logger.isDebugEnabled();
  const refusal = (): string | undefined => (opts.concurrentMax !== undefined && inFlight >= opts.concurrentMax ? tooManyCalls(opts.concurrentMax) : undefined);
  // deadline layer: runtime cap (@baetyl/core/function/deadlines.ts).
  const capped = (callerDeadline: number): number =>
    opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? Math.min(callerDeadline, Date.now() + opts.timeoutMs) : callerDeadline;
  /** Runs one call; `answer` gets the result (never throws, always called once). */
  const run = (msg: FunctionMessage, deadline: number, answer: (r: CallResult) => void): void => {
    if (closing) {
      answer({ ok: false, code: status.UNAVAILABLE, details: RUNTIME_STOPPING });
      return;
    }
    const refused = refusal();
    if (refused) {
      answer({ ok: false, code: status.RESOURCE_EXHAUSTED, details: refused });
      return;
    }
    inFlight++;
    const started = debug ? Date.now() : 0;
    executor.call(msg, capped(deadline)).then(
      (res) => {
        inFlight--;
        if (debug) {
          const fields = { function: msg.FunctionName, invokeid: msg.FunctionInvokeID, ms: Date.now() - started };
          opts.logger.debug(res.ok ? 'call done' : `call failed: ${res.details}`, fields);
        }
        answer(res);
      },
      (err: unknown) => {
        inFlight--;
        answer({ ok: false, code: status.INTERNAL, details: `runtime error: ${String(err)}` });
      },
    );
  };

  const server = await listenGrpc(
    bindAddress(opts.address),
    {
      [FUNCTION_CALL_PATH]: {
        onCall: (call) => {
          let request: Buffer | undefined;
          call.onEnd(() => {
            if (!request) {
              call.finish(status.INTERNAL, 'the request carried no message');
              return;
            }
            let msg: FunctionMessage;
            try {
              msg = decodeFunctionMessage(request);
            } catch (err) {
              call.finish(status.INTERNAL, `cannot decode the request: ${(err as Error).message}`);
              return;
            }
            run(msg, call.deadline, (res) => {
              if (!call.open) return;
              if (!res.ok) {
                call.finish(res.code, res.details);
                return;
              }
              const reply = encodeFunctionMessage({ ...msg, Payload: res.payload });
              if (reply.length > opts.maxMessageLength) {
                call.finish(status.RESOURCE_EXHAUSTED, resultTooLarge(res.payload.length, reply.length, opts.maxMessageLength));
                opts.logger.error(
                  `function "${msg.FunctionName}" returned ${res.payload.length} bytes, more than server.message.length.max (${opts.maxMessageLength})`,
                  { invokeid: msg.FunctionInvokeID },
                );
              } else call.reply(reply);
            });
          });
          return (m) => {
            if (request) call.finish(status.UNIMPLEMENTED, 'a unary call carries one request message');
            // A view into the received chunk: copied, as it is decoded only when the request ends.
            else request = Buffer.from(m);
          };
        },
      },
      // Our extension (protos/function-stream.proto): each call is exactly what Call would do;
      // only the HTTP/2 stream per call is saved. Answers go out as calls finish.
      [FUNCTION_STREAM_PATH]: {
        onCall: (call) => {
          let running = 0;
          let ended = false;
          const finish = () => {
            if (ended && running === 0) {
              streams.delete(drain);
              call.finish(status.OK);
            }
          };
          // The runtime stops: the stream ends as if the caller had ended it (the function
          // manager's stream is open for as long as the instance lives).
          const drain = () => {
            ended = true;
            finish();
          };
          streams.add(drain);
          call.onCancel(() => streams.delete(drain));
          const answer = (res: StreamResult, msg: FunctionMessage) => {
            running--;
            if (call.open) {
              let out = encodeStreamResult(res);
              if (out.length > opts.maxMessageLength) {
                // Written as it is, it would end the stream and every call on it.
                opts.logger.error(
                  `function "${msg.FunctionName}" returned ${res.payload.length} bytes, more than server.message.length.max (${opts.maxMessageLength})`,
                  { invokeid: msg.FunctionInvokeID },
                );
                out = encodeStreamResult({
                  seq: res.seq,
                  code: status.RESOURCE_EXHAUSTED,
                  details: resultTooLarge(res.payload.length, out.length, opts.maxMessageLength),
                  payload: EMPTY,
                });
              }
              call.write(out);
            }
            finish();
          };
          // Headers at once: the caller learns that this runtime serves the stream before any answer.
          call.sendHeaders();
          call.onEnd(() => {
            ended = true;
            finish();
          });
          return (m) => {
            let c;
            try {
              c = decodeStreamCall(m);
            } catch (err) {
              call.finish(status.INTERNAL, `cannot decode a call: ${(err as Error).message}`);
              return;
            }
            const { seq, msg } = c;
            running++;
            // deadline layer: runtime receives (@baetyl/core/function/deadlines.ts).
            run(msg, c.timeout > 0 ? Date.now() + c.timeout : Infinity, (res) => {
              // us: 0 says "not measured", so a call that ran says at least 1.
              const us = res.us === undefined ? 0 : Math.max(1, res.us);
              if (res.ok) answer({ seq, code: 0, details: '', payload: res.payload, us }, msg);
              else answer({ seq, code: res.code, details: res.details, payload: EMPTY, us }, msg);
            });
          };
        },
      },
    },
    { maxMessageLength: opts.maxMessageLength, ...(opts.tls ? { tls: readTls(opts.tls) } : {}) },
  ).catch((err: Error) => {
    throw new Error(`cannot listen on ${opts.address}: ${err.message}`);
  });

  return {
    port: server.port,
    address: bindAddress(opts.address),
    close: (graceMs = 2000) => {
      closing = true;
      for (const drain of [...streams]) drain();
      return server.close(graceMs);
    },
  };
}
