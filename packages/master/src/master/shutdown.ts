// How the master stops: the API first (no new work comes in), then an update in progress is let
// finish, then every service in parallel, then the engine; the run files go last.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { closeLogger, type Logger } from '@baetyl/core/log';
import type { ApiServer } from '../api/server.js';
import type { Engine } from '../engine/engine.js';
import type { MetricsEndpoint } from '../metrics/endpoint.js';
import type { StatsWriter } from '../stats/store.js';
import type { UpdateReport } from '../update/apply.js';
import type { ServiceRegistry } from './services.js';

/** What is running: any part may be missing when the start failed early. */
export interface RunningParts {
  readonly workdir: string;
  readonly log: Logger | undefined;
  readonly api: ApiServer | undefined;
  readonly metricsEndpoint: MetricsEndpoint | undefined;
  readonly updating: Promise<UpdateReport> | undefined;
  readonly services: ServiceRegistry | undefined;
  readonly graceMs: number;
  readonly stats: StatsWriter | undefined;
  readonly engine: Engine | undefined;
  /** The files this master wrote under var/run; none when it never started (another master's must stay). */
  readonly runFiles: string[];
}

/** `now()` gives the parts as they are at each step. */
export async function shutdown(now: () => RunningParts): Promise<void> {
  await now().api?.close();
  await now().metricsEndpoint?.close();
  now().log?.info('server stopped');
  // An update in progress finishes (or rolls back) first, so no service starts behind the stop.
  await now().updating?.catch(() => undefined);
  const parts = now();
  await parts.services?.stopAll(parts.graceMs);
  parts.stats?.flush();
  await parts.engine?.close();
  parts.log?.info('engine stopped');
  for (const f of parts.runFiles) rmSync(join(parts.workdir, f), { force: true });
  if (parts.log) await closeLogger(parts.log);
}
