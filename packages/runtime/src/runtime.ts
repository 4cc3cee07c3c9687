// One runtime instance: the executor for its language behind the gRPC server.
import { formatDuration } from '@baetyl/core/config/units';
import type { RuntimeLogger } from './log/logger.js';
import type { RuntimeConfig, RuntimeKind } from './config/config.js';
import { FUNCTION_NOT_FOUND } from '@baetyl/core/function/errors';
import type { Executor } from './host/executor.js';
import type { FunctionSpec } from './host/protocol.js';
import { serveFunctions, type RunningServer } from './host/server.js';

/** The python runtimes are Python programs of their own (packages/runtime/python), not this host. */
export const PYTHON_IS_PYTHON =
  'the python27 and python36 runtimes run on Python itself, with no Node process: the master starts them as ' +
  '"python -u packages/runtime/python/run.py" with the checked service.yml (see docs/functions-runtimes.md)';

/**
 * node85 worker threads per instance when server.workers.max is not set. One, as in Baetyl v1
 * (one call at a time per instance; the function manager's pool scales out): each thread costs
 * about 9 MB, and on the reference machine one thread, pipelined, served as many calls per second
 * as four, at less CPU per call.
 */
export const DEFAULT_NODE_THREADS = 1;
/** Spare workers are stopped after this long idle when runtime.idle is not set. */
export const DEFAULT_IDLE_MS = 5 * 60_000;

export interface StartOptions {
  kind: RuntimeKind;
  /** Where codedir and relative paths are resolved (the service's work dir). */
  cwd: string;
  /** The config file, for messages. */
  configFile: string;
  logger: RuntimeLogger;
  env?: NodeJS.ProcessEnv;
}

export interface RunningRuntime {
  server: RunningServer;
  executor: Executor;
  close(): Promise<void>;
}

/** Each kind loads only its own executor: sql never loads the worker pool, node85 never the SQL engine. */
async function createExecutor(cfg: RuntimeConfig, opts: StartOptions): Promise<Executor> {
  const env = opts.env ?? process.env;
  if (opts.kind === 'sql') {
    const { SqlExecutor } = await import('./sql/executor.js');
    return new SqlExecutor(cfg.functions, opts.logger);
  }
  if (opts.kind !== 'node85') throw new Error(PYTHON_IS_PYTHON);
  const [{ WorkerPool }, { takePrespawned }, { nodeLaunch }] = await Promise.all([
    import('./host/pool.js'),
    import('./host/prespawn.js'),
    import('./node/launch.js'),
  ]);
  const functions: FunctionSpec[] = cfg.functions.map((f) => ({ name: f.name, handler: f.handler, codedir: f.codedir ?? '.' }));
  return new WorkerPool({
    runtime: opts.kind,
    functions,
    max: cfg.server.workers.max ?? DEFAULT_NODE_THREADS,
    idleMs: cfg.runtime.idle ?? DEFAULT_IDLE_MS,
    notFoundDetails: FUNCTION_NOT_FOUND,
    logger: opts.logger,
    launch: () => nodeLaunch(opts.cwd, env),
    takeStarted: takePrespawned,
  });
}

/**
 * Loads every handler and listens, both at once: a cold start waits for the slower of the two,
 * not their sum (calls that arrive first wait in the executor for its first worker). Throws (with
 * a message for the user) if anything is wrong.
 */
export async function startRuntime(cfg: RuntimeConfig, opts: StartOptions): Promise<RunningRuntime> {
  const executor = await createExecutor(cfg, opts);
  const serving = serveFunctions(executor, {
    address: cfg.server.address ?? '',
    timeoutMs: cfg.server.timeout,
    concurrentMax: cfg.server.concurrent.max,
    maxMessageLength: cfg.server.message.length.max,
    tls: cfg.server.key && cfg.server.cert ? { ca: cfg.server.ca, key: cfg.server.key, cert: cfg.server.cert } : undefined,
    logger: opts.logger,
  });
  const [started, bound] = await Promise.allSettled([executor.start(), serving]);
  if (started.status === 'rejected' || bound.status === 'rejected') {
    if (bound.status === 'fulfilled') await bound.value.close(0);
    await executor.close();
    throw started.status === 'rejected' ? started.reason : (bound as PromiseRejectedResult).reason;
  }
  const server = bound.value;
  const timeout = cfg.server.timeout ? `, call timeout ${formatDuration(cfg.server.timeout)}` : '';
  opts.logger.info(`service starting: ${opts.kind} runtime with ${cfg.functions.map((f) => f.name).join(', ')} on ${cfg.server.address}${timeout}`);
  return {
    server,
    executor,
    async close() {
      await server.close();
      await executor.close();
      opts.logger.info('service closed');
    },
  };
}
