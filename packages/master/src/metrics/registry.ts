// The master's own Prometheus metrics: per service and instance, whether it runs, its restarts,
// its CPU time and resident memory (from the engine, read at each scrape).
import { Counter, Gauge, Registry } from 'prom-client';
import { INSTANCE_LABEL, SERVICE_LABEL, type MetricFamily } from '@baetyl/core/metrics/report';
import type { ResourceTotals } from '../engine/engine.js';
import { VERSION } from '../version.js';

/** One instance as the master knows it. */
export interface InstanceView {
  service: string;
  instance: string;
  running: boolean;
  restarts: number;
  totals(): Promise<ResourceTotals | undefined>;
}

type Labels = typeof SERVICE_LABEL | typeof INSTANCE_LABEL;

export class MasterMetrics {
  readonly registry = new Registry();
  private readonly up: Gauge<Labels>;
  private readonly restarts: Counter<Labels>;
  private readonly cpu: Counter<Labels>;
  private readonly rss: Gauge<Labels>;
  /** One collection at a time: a second scrape waits for the first, which resets and fills the registry. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(mode: string) {
    const registers = [this.registry];
    const labelNames = [SERVICE_LABEL, INSTANCE_LABEL] as const;
    this.up = new Gauge({
      name: 'baetyl_service_up',
      help: 'Whether the instance runs (1) or not (0: starting, restarting, exited, failed).',
      labelNames,
      registers,
    });
    this.restarts = new Counter({
      name: 'baetyl_service_restarts_total',
      help: 'Times the master restarted the instance by its restart policy.',
      labelNames,
      registers,
    });
    this.cpu = new Counter({
      name: 'baetyl_service_cpu_seconds_total',
      help: "CPU time (user and system) of the instance's live processes (native) or its container.",
      labelNames,
      registers,
    });
    this.rss = new Gauge({
      name: 'baetyl_service_memory_rss_bytes',
      help: "Resident memory of the instance's processes (native) or its container (without page cache).",
      labelNames,
      registers,
    });
    new Gauge({ name: 'baetyl_master_info', help: "The master's version and engine mode (always 1).", labelNames: ['version', 'mode'], registers }).set(
      { version: VERSION, mode },
      1,
    );
  }

  /** The registry's families, filled from `instances` now. */
  collect(instances: InstanceView[]): Promise<MetricFamily[]> {
    const run = this.queue.then(async () => {
      const totals = await Promise.all(instances.map((i) => (i.running ? i.totals().catch(() => undefined) : undefined)));
      for (const m of [this.up, this.restarts, this.cpu, this.rss]) m.reset();
      instances.forEach((i, n) => {
        const labels = { [SERVICE_LABEL]: i.service, [INSTANCE_LABEL]: i.instance };
        this.up.set(labels, i.running ? 1 : 0);
        this.restarts.inc(labels, i.restarts);
        const t = totals[n];
        if (t) {
          this.cpu.inc(labels, t.cpuSeconds);
          this.rss.set(labels, t.rssBytes);
        }
      });
      return (await this.registry.getMetricsAsJSON()) as unknown as MetricFamily[];
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
