// The master's metrics endpoint, put together: the listener, the master's own registry, and the
// merge with what the instances reported. Loaded only when conf.yml sets metrics.address, so a
// master without it never loads prom-client.
import type { Logger } from '@baetyl/core/log';
import { mergeExposition, type MetricSource } from '@baetyl/core/metrics';
import type { ApiTls } from '../api/tls.js';
import { MetricsListener } from './listener.js';
import { MasterMetrics, type InstanceView } from './registry.js';

export interface MetricsEndpointOptions {
  address: string;
  tls: ApiTls | undefined;
  confFile: string;
  mode: string;
  log: Logger;
  /** Every instance the master knows, now. */
  instances(): InstanceView[];
  /** What the instances last reported, each with its service and instance labels. */
  reports(): MetricSource[];
}

export interface MetricsEndpoint {
  /** The URL it serves, e.g. http://127.0.0.1:9600/metrics. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on metrics.address; throws naming conf.yml and the field when it cannot. */
export async function startMetricsEndpoint(opts: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const own = new MasterMetrics(opts.mode);
  const listener = new MetricsListener(
    async () => mergeExposition([{ labels: {}, families: await own.collect(opts.instances()) }, ...opts.reports()]),
    opts.log,
  );
  await listener.listen(opts.address, opts.tls, opts.confFile);
  return { url: listener.url, close: () => listener.close() };
}
