// Puts the function manager together: one pool per function, one hub connection per rule.
import { type Logger } from '@baetyl/core/log';
import { readServiceContext } from '@baetyl/core/context';
import { MasterClient } from '@baetyl/core/api';
import { messageLengthMax, type FunctionManagerConfig } from './config/schema.js';
import { FunctionMetrics, type CallMetrics } from './metrics/registry.js';
import { MasterLauncher, type InstanceLauncher } from './pool/launcher.js';
import { FunctionPool } from './pool/pool.js';
import { resolveHubLimit } from './publish/hub-limit.js';
import { Rule } from './rule/rule.js';
import { startFunctionServer, type FunctionServer } from './server/function-server.js';

export interface FunctionManagerDeps {
  logger: Logger;
  /** Starts and stops runtime instances. Default: the master API, from the BAETYL_* environment. */
  launcher?: InstanceLauncher;
  /** The master API client for the default launcher (default MasterClient.fromEnv()). */
  master?: MasterClient;
  /** Default: BAETYL_SERVICE_MODE. */
  mode?: 'native' | 'docker';
  /** Where relative certificate paths are resolved (default process.cwd()). */
  cwd?: string;
  /** How long close() lets accepted messages finish, ms (default 5000). */
  drainGrace?: number;
  /** Calls sent to one instance at once, for every function; overrides functions[].instance.concurrency. */
  instanceConcurrency?: number;
}

export interface FunctionManager {
  readonly pools: ReadonlyMap<string, FunctionPool>;
  readonly rules: readonly Rule[];
  /** The gRPC endpoint of `server.address`, when it is set. */
  readonly server: FunctionServer | undefined;
  /** Its Prometheus metrics (reported to the master by main.ts). */
  readonly metrics: FunctionMetrics;
  /** Stops reading, lets accepted messages finish briefly, stops every instance, disconnects. */
  close(): Promise<void>;
}

export async function startFunctionManager(config: FunctionManagerConfig, deps: FunctionManagerDeps): Promise<FunctionManager> {
  const log = deps.logger;
  let master = deps.master;
  let launcher = deps.launcher;
  // The master API is needed only to run functions.
  if (!launcher && config.functions.length > 0) {
    master ??= MasterClient.fromEnv();
    launcher = new MasterLauncher(master, deps.mode ?? readServiceContext().mode);
  }

  const pools = new Map<string, FunctionPool>();
  const metrics = new FunctionMetrics(() => [...pools].map(([name, pool]): [string, ReturnType<FunctionPool['stats']>] => [name, pool.stats()]));
  for (const fn of config.functions) {
    if (fn.message.length.max === undefined && fn.instance.message.length.max !== undefined) {
      log.info(`function (${fn.name}): using instance.message.length.max as message.length.max (Baetyl's docs put it there)`);
    }
    const pool = new FunctionPool(
      {
        functionName: fn.name,
        serviceName: fn.service,
        min: fn.instance.min,
        max: fn.instance.max,
        idleTime: fn.instance.idletime,
        evictTime: fn.instance.evicttime,
        timeout: fn.timeout,
        messageLengthMax: messageLengthMax(fn),
        backoffMax: fn.backoff.max,
        concurrency: deps.instanceConcurrency ?? fn.instance.concurrency,
        coldStart: metrics.coldStartsOf(fn.name),
      },
      launcher!,
      log.child({ function: fn.name }),
    );
    pools.set(fn.name, pool);
  }

  const cwd = deps.cwd ?? process.cwd();
  const hubLimit = resolveHubLimit(config.hub.message?.length?.max, config.hub.address, cwd);
  if (config.rules.length > 0)
    log.info(
      `the hub's message.length.max is ${hubLimit.max} bytes (from ${hubLimit.from}): a result whose PUBLISH is larger becomes the rule's error payload`,
    );
  const rules = config.rules.map((rc, i) => {
    const pool = pools.get(rc.function.name);
    // The config loader already rejects this; kept so a hand-built config fails clearly too.
    if (!pool) throw new Error(`rules[${i}] names function (${rc.function.name}), which is not in functions`);
    const name = rc.clientid || config.hub.clientid || `#${i + 1}`;
    return new Rule(rc, config.hub, pool, log.child({ rule: name }), cwd, hubLimit.max, metrics.forCalls(name, rc.function.name));
  });

  let server: FunctionServer | undefined;
  if (config.server.address) {
    const serverCalls = new Map<string, CallMetrics>();
    const metricsOf = (fn: string): CallMetrics => {
      let m = serverCalls.get(fn);
      if (!m) serverCalls.set(fn, (m = metrics.forCalls('', fn)));
      return m;
    };
    server = await startFunctionServer(config.server, { pools, log: log.child({ server: 'function' }), cwd: deps.cwd ?? process.cwd(), metricsOf });
  }
  for (const pool of pools.values()) pool.start();
  for (const rule of rules) rule.start();
  log.info(`function manager started: ${rules.length} rule(s), ${pools.size} function(s)${server ? `, serving calls on ${server.address}` : ''}`);

  let closing: Promise<void> | undefined;
  const close = async () => {
    const grace = deps.drainGrace ?? 5000;
    // No new calls from either side; the accepted ones get the grace to finish.
    await Promise.all([...rules.map((r) => r.drain(grace)), server?.close(grace)]);
    await Promise.all([...pools.values()].map((p) => p.close()));
    await Promise.all(rules.map((r) => r.close()));
    if (!deps.master && master) master.close();
    log.info('function manager stopped');
  };
  return {
    pools,
    rules,
    server,
    metrics,
    close: () => (closing ??= close()),
  };
}
