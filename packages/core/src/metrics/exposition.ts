// The Prometheus glue shared by the services and the master. A service keeps its own prom-client
// Registry and reports it as JSON (getMetricsAsJSON) under REPORT_KEY; the master checks each
// report (report.ts) and, on a scrape, merges the last one of every instance with its own
// registry into one exposition, each instance's series labelled with its service and instance.
import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricSource } from './report.js';

/** The Content-Type of the text exposition format (0.0.4). */
export const EXPOSITION_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * One text exposition of every source: a family reported by several sources is written once,
 * with all their series. A family whose type differs from the first source's is left out (two
 * services disagreeing on a name is a bug, and Prometheus would refuse the whole scrape).
 */
export function mergeExposition(sources: MetricSource[]): Promise<string> {
  const types = new Map<string, string>();
  const relabelled = sources.map((s) =>
    s.families
      .filter((f) => {
        const seen = types.get(f.name);
        if (seen === undefined) types.set(f.name, f.type);
        return seen === undefined || seen === f.type;
      })
      .map((f) => ({ ...f, aggregator: 'sum', values: f.values.map((v) => ({ ...v, labels: { ...v.labels, ...s.labels } })) })),
  );
  // prom-client's documented merge of several registries' JSON (made for cluster workers): values
  // with the same name and labels are summed, and the text is written by prom-client itself.
  return AggregatorRegistry.aggregate(relabelled as unknown as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
}
