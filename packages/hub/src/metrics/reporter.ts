// Reports the hub's stats to the master every metrics.report.interval, as Baetyl's hub did
// (PUT /v1/services/{svc}/instances/{inst}/report). Outside the master (no token or address,
// e.g. a hub started by a test) it does nothing; a failing master is logged once.
import { type Logger } from '@baetyl/core/log';
import { readServiceContext } from '@baetyl/core/context';
import { MasterClient } from '@baetyl/core/api';
import type { HubStats } from './stats.js';

export interface Reporter {
  stop(): void;
}

export function startReporter(intervalMs: number, stats: () => HubStats, logger: Logger, env: NodeJS.ProcessEnv = process.env): Reporter {
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
  const report = async () => {
    const s = stats();
    try {
      await client.reportInstance(ctx.serviceName, ctx.instanceName, { broker_stats: s, rule_count: s.rule_count });
      if (warned) logger.info('metrics reported to the master again');
      warned = false;
    } catch (err) {
      if (!warned) logger.warn(`cannot report metrics to the master: ${(err as Error).message}`);
      warned = true;
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
