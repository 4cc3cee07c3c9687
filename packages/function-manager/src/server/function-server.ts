// The manager's own gRPC endpoint (v1's `server` block): baetyl.Function/Call on server.address,
// dispatched by FunctionMessage.FunctionName into that function's pool, for services that call a
// function by name instead of through a rule. A call takes a pool reservation like a rule's
// message, so both share the function's limit (instance.max x concurrency); it is one attempt, as
// v1's server made, and server.timeout bounds the whole of it (waiting for room, starting an
// instance, the call).
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { formatDuration } from '@baetyl/core/config';
import { loadFunctionProto, type FunctionMessage } from '@baetyl/core/function';
import type { Logger } from '@baetyl/core/log';
import { UNUSED_SERVER_WHY, type ServerConfig } from '../config/schema.js';
import { PoolClosedError, type FunctionPool } from '../pool/pool.js';
import type { CallMetrics } from '../metrics/registry.js';
import { bindTarget } from './address.js';

export interface FunctionServer {
  /** Where it listens: `tcp://host:port` (the bound port) or `unix://path`. */
  address: string;
  /** Refuses new calls; lets open ones finish for up to graceMs. */
  close(graceMs: number): Promise<void>;
}

export interface FunctionServerDeps {
  pools: ReadonlyMap<string, FunctionPool>;
  log: Logger;
  /** Where a relative unix socket path and certificate paths start. */
  cwd: string;
  /** The counters of the server's calls of a function (rule=""). */
  metricsOf?: (fn: string) => CallMetrics;
}

function readPem(key: string, file: string, cwd: string): Buffer {
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`server.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function credentials(cfg: ServerConfig, cwd: string): grpc.ServerCredentials {
  if (!cfg.cert || !cfg.key) return grpc.ServerCredentials.createInsecure();
  const pair = { private_key: readPem('key', cfg.key, cwd), cert_chain: readPem('cert', cfg.cert, cwd) };
  const ca = cfg.ca ? readPem('ca', cfg.ca, cwd) : null;
  // With a CA, callers must present a certificate it signed (as the runtimes' servers do).
  return grpc.ServerCredentials.createSsl(ca, [pair], ca !== null);
}

/** A socket file left by a manager that was killed would make the bind fail forever; a live one is not touched. */
async function clearStaleSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((done) => {
    const conn = connect(path);
    conn.once('connect', () => {
      conn.destroy();
      done(true);
    });
    conn.once('error', () => done(false));
  });
  if (live) throw new Error(`server.address: ${path} is in use by another process; stop it or set another server.address`);
  // unlinkSync, not rmSync: on node 20, an rmSync here made later CommonJS requires through
  // pnpm's symlinks fail (grpc-js loaded by @baetyl/core could not find its own dependencies).
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

const serviceError = (code: grpc.status, details: string): Partial<grpc.ServiceError> => ({ code, details, message: details });

export async function startFunctionServer(cfg: ServerConfig, deps: FunctionServerDeps): Promise<FunctionServer> {
  const { log, pools } = deps;
  const bind = bindTarget(cfg.address!, deps.cwd);
  if (!bind) throw new Error(`server.address "${cfg.address}" is not an address to listen on; use host:port, tcp://host:port or unix://path`);
  const options: grpc.ServerOptions = {
    'grpc.max_receive_message_length': cfg.message.length.max,
    'grpc.max_send_message_length': cfg.message.length.max,
  };
  // v1 passed concurrent.max to grpc-go as MaxConcurrentStreams: calls at once per connection.
  if (cfg.concurrent.max) options['grpc.max_concurrent_streams'] = cfg.concurrent.max;
  if (cfg.workers.max !== undefined) {
    log.warn(`server.workers.max (${cfg.workers.max}) is not used by the function manager: ${UNUSED_SERVER_WHY.workers}`);
  }
  if (cfg.insecure) log.warn(`server.insecure is not used: ${UNUSED_SERVER_WHY.insecure}`);
  const creds = credentials(cfg, deps.cwd);
  if (bind.unix) await clearStaleSocket(bind.unix);

  const server = new grpc.Server(options);
  const names = () => [...pools.keys()].join(', ') || 'none';
  const call: grpc.handleUnaryCall<FunctionMessage, FunctionMessage> = (unary, callback) => {
    const msg = unary.request;
    const pool = pools.get(msg.FunctionName);
    if (!pool) {
      const what = msg.FunctionName ? `function (${msg.FunctionName}) not found` : 'FunctionName is empty';
      callback(serviceError(grpc.status.NOT_FOUND, `${what}; the functions of this manager are: ${names()}`));
      return;
    }
    let answered = false;
    const answer = (err: Partial<grpc.ServiceError> | null, res?: FunctionMessage) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      callback(err, res);
    };
    // The caller's own deadline, if sooner, is enforced by grpc-js itself.
    // deadline layer: manager server call (@baetyl/core/function/deadlines.ts).
    const timer = setTimeout(() => {
      log.warn(`call of function (${msg.FunctionName}) through the server took longer than server.timeout (${formatDuration(cfg.timeout)})`, {
        invokeid: msg.FunctionInvokeID,
      });
      answer(
        serviceError(grpc.status.DEADLINE_EXCEEDED, `function (${msg.FunctionName}) did not answer within server.timeout (${formatDuration(cfg.timeout)})`),
      );
    }, cfg.timeout);
    unary.on('cancelled', () => answer(serviceError(grpc.status.CANCELLED, 'cancelled by the caller')));
    const message: FunctionMessage = { ...msg, FunctionInvokeID: msg.FunctionInvokeID || randomUUID() };
    void (async () => {
      let reservation;
      try {
        reservation = await pool.reserve();
      } catch (err) {
        const stopping = err instanceof PoolClosedError;
        answer(serviceError(grpc.status.UNAVAILABLE, stopping ? 'the function manager is stopping' : (err as Error).message));
        return;
      }
      try {
        // Given up on (deadline, cancel) while waiting for room: the room goes to the next one.
        if (answered) return;
        const outcome = await reservation.invoke(message, 1, deps.metricsOf?.(msg.FunctionName));
        if (outcome.kind === 'ok') answer(null, outcome.result);
        else if (outcome.kind === 'aborted') answer(serviceError(grpc.status.UNAVAILABLE, 'the function manager is stopping'));
        else answer(serviceError(outcome.failure.code ?? grpc.status.UNAVAILABLE, outcome.failure.details ?? outcome.failure.message));
      } finally {
        reservation.release();
      }
    })().catch((err: Error) => answer(serviceError(grpc.status.INTERNAL, err.message)));
  };
  server.addService(loadFunctionProto().service, { Call: call });

  const port = await new Promise<number>((ok, fail) => {
    server.bindAsync(bind.target, creds, (err, bound) => (err ? fail(new Error(`server.address ${cfg.address}: cannot listen: ${err.message}`)) : ok(bound)));
  });
  const address = bind.unix ? `unix://${bind.unix}` : `tcp://${bind.target.replace(/:\d+$/, `:${port}`)}`;
  log.info('function server listening', { address, tls: cfg.cert ? (cfg.ca ? 'client certificates required' : 'on') : 'off' });
  return {
    address,
    close: (graceMs) =>
      new Promise<void>((done) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          done();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          done();
        });
      }),
  };
}
