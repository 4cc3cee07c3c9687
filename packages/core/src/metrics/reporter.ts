// Reports a service's numbers to the master every `intervalMs`, as Baetyl's hub did
// (PUT /v1/services/{svc}/instances/{inst}/report). The hub and the function manager both use it.
// Outside a master (no token or address, e.g. a service started by a test) it does nothing; a
// master that cannot be reached is logged once, and again when it answers.
import type { Logger } from '../log/logger.js';
import { readServiceContext } from '../context/env.js';
import { MasterClient } from '../api/client.js';

export interface Reporter {
  stop(): void;
}

export interface ReporterOptions {
  /** ms between two reports; 0 or less: none. */
  intervalMs: number;
  /** The report's body (a JSON object), made anew for each report. */
  body: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

export function startReporter(opts: ReporterOptions): Reporter {
  const { intervalMs, body, logger } = opts;
  const env = opts.env ?? process.env;
  const ctx = readServiceContext(env);
  if (!ctx.token || !ctx.masterApiAddress || !ctx.serviceName || intervalMs <= 0) {
    logger.debug('metrics are not reported: not started by a baetyl master');
    return { stop() {} };
  }
  let client: MasterClient;
  try {
    client = MasterClient.fromEnv(env);
  } catch (err) {
    logger.warn(`metrics are not reported: ${(err as Error).message}`);
    return { stop() {} };
  }
  let warned = false;
  let busy = false;
  const report = async () => {
    // A master slower than the interval gets one report at a time, not a pile of them.
    if (busy) return;
    busy = true;
    try {
      await client.reportInstance(ctx.serviceName, ctx.instanceName, await body());
      if (warned) logger.info('metrics reported to the master again');
      warned = false;
    } catch (err) {
      if (!warned) logger.warn(`cannot report metrics to the master: ${(err as Error).message}`);
      warned = true;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void report(), intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      client.close();
    },
  };
}
