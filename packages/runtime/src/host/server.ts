// The gRPC face of a runtime instance: baetyl.Function/Call, answered with the request message
// whose Payload is replaced by the result (Baetyl v1 §4.1). Language work happens in an Executor.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { functionStreamService, loadFunctionProto, type FunctionMessage, type Logger, type StreamCall, type StreamResult } from '@baetyl/core';
import type { Executor } from './executor.js';

export interface ServerOptions {
  /** host:port (a leading tcp:// is accepted), or unix:path. */
  address: string;
  /** Cap on every call, on top of the caller's own deadline (ms). */
  timeoutMs?: number;
  /** Calls in flight (running or waiting for a worker) beyond which new calls are refused. */
  concurrentMax?: number;
  maxMessageLength: number;
  tls?: { ca?: string; key: string; cert: string };
  logger: Logger;
}

export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  address: string;
  /** Stops accepting calls, lets running ones finish for up to graceMs, then cuts them. */
  close(graceMs?: number): Promise<void>;
}

/** Turns Baetyl's address forms into what grpc-js binds. */
export function bindAddress(address: string): string {
  if (address.startsWith('tcp://')) return address.slice('tcp://'.length);
  if (address.startsWith('unix:///')) return `unix:${address.slice('unix://'.length)}`;
  if (address.startsWith('unix://')) return `unix:${address.slice('unix://'.length)}`;
  return address;
}

function credentials(tls: ServerOptions['tls']): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read server.${what} "${file}": ${(err as Error).message}`);
    }
  };
  const ca = tls.ca ? read(tls.ca, 'ca') : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: read(tls.cert, 'cert'), private_key: read(tls.key, 'key') }], ca !== null);
}

const EMPTY = Buffer.alloc(0);

function deadlineOf(call: grpc.ServerUnaryCall<FunctionMessage, FunctionMessage>): number {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return typeof d === 'number' ? d : Infinity;
}

export async function serveFunctions(executor: Executor, opts: ServerOptions): Promise<RunningServer> {
  const { service } = loadFunctionProto();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageLength,
    'grpc.max_send_message_length': opts.maxMessageLength,
    // Channelz bookkeeping costs every call, and nothing reads it.
    'grpc.enable_channelz': 0,
  });
  let inFlight = 0;
  // Per-call debug lines cost an object and a clock read each: decided once.
  const debug = opts.logger.isDebugEnabled();
  const refusal = (): string | undefined =>
    opts.concurrentMax !== undefined && inFlight >= opts.concurrentMax
      ? `too many concurrent calls (server.concurrent.max is ${opts.concurrentMax})`
      : undefined;
  const deadlineFrom = (callerDeadline: number): number =>
    opts.timeoutMs !== undefined && opts.timeoutMs > 0 ? Math.min(callerDeadline, Date.now() + opts.timeoutMs) : callerDeadline;
  server.addService(service, {
    Call: (call: grpc.ServerUnaryCall<FunctionMessage, FunctionMessage>, callback: grpc.sendUnaryData<FunctionMessage>) => {
      const msg = call.request;
      const refused = refusal();
      if (refused) {
        callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: refused });
        return;
      }
      inFlight++;
      const deadline = deadlineFrom(deadlineOf(call));
      const started = debug ? Date.now() : 0;
      executor.call(msg, deadline).then(
        (res) => {
          inFlight--;
          if (debug) {
            const fields = { function: msg.FunctionName, invokeid: msg.FunctionInvokeID, ms: Date.now() - started };
            opts.logger.debug(res.ok ? 'call done' : `call failed: ${res.details}`, fields);
          }
          if (res.ok) callback(null, { ...msg, Payload: res.payload });
          else callback({ code: res.code, details: res.details });
        },
        (err: unknown) => {
          inFlight--;
          callback({ code: grpc.status.INTERNAL, details: `runtime error: ${String(err)}` });
        },
      );
    },
  });
  // Our extension (protos/function-stream.proto): many calls on one stream, answered as they
  // finish. Each call is exactly what Call would do; only the HTTP/2 stream per call is saved.
  server.addService(functionStreamService, {
    Calls: (stream: grpc.ServerDuplexStream<StreamCall, StreamResult>) => {
      let open = true;
      let running = 0;
      let ended = false;
      const finish = () => {
        if (open && ended && running === 0) {
          open = false;
          stream.end();
        }
      };
      const answer = (res: StreamResult) => {
        running--;
        if (open) stream.write(res);
        finish();
      };
      // Headers at once: the caller learns that this runtime serves the stream before any answer.
      stream.sendMetadata(new grpc.Metadata());
      stream.on('data', (c: StreamCall) => {
        running++;
        const refused = refusal();
        if (refused) {
          answer({ seq: c.seq, code: grpc.status.RESOURCE_EXHAUSTED, details: refused, payload: EMPTY });
          return;
        }
        inFlight++;
        const deadline = deadlineFrom(c.timeout > 0 ? Date.now() + c.timeout : Infinity);
        executor.call(c.msg, deadline).then(
          (res) => {
            inFlight--;
            if (res.ok) answer({ seq: c.seq, code: 0, details: '', payload: res.payload });
            else {
              if (debug) opts.logger.debug(`call failed: ${res.details}`, { function: c.msg.FunctionName, invokeid: c.msg.FunctionInvokeID });
              answer({ seq: c.seq, code: res.code, details: res.details, payload: EMPTY });
            }
          },
          (err: unknown) => {
            inFlight--;
            answer({ seq: c.seq, code: grpc.status.INTERNAL, details: `runtime error: ${String(err)}`, payload: EMPTY });
          },
        );
      });
      stream.on('end', () => {
        ended = true;
        finish();
      });
      stream.on('error', () => {
        open = false;
      });
      stream.on('cancelled', () => {
        open = false;
      });
    },
  });
  const address = bindAddress(opts.address);
  const creds = credentials(opts.tls);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, creds, (err, p) => {
      if (err) reject(new Error(`cannot listen on ${opts.address}: ${err.message}`));
      else resolve(p);
    });
  });
  return {
    port,
    address,
    close: (graceMs = 2000) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
