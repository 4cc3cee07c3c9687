// What the metrics endpoint reads from the running services: each instance's state and the
// metrics it last reported.
import { INSTANCE_LABEL, SERVICE_LABEL, type MetricSource } from '@baetyl/core/metrics/report';
import type { ServiceState } from '../master/services.js';
import type { InstanceView } from './registry.js';

/** Every instance, for the master's own metrics. */
export function instanceViews(services: Iterable<ServiceState>): InstanceView[] {
  return [...services].flatMap((state) =>
    [...state.instances.values()].map((sup) => ({
      service: state.spec.name,
      instance: sup.name,
      running: sup.status === 'running' && sup.running !== undefined,
      restarts: sup.restarts,
      totals: async () => sup.running?.totals(),
    })),
  );
}

/** The last metrics each instance reported, labelled with its service and instance. */
export function reportedMetrics(services: Iterable<ServiceState>): MetricSource[] {
  const sources: MetricSource[] = [];
  for (const state of services) {
    for (const [instance, families] of state.metrics) sources.push({ labels: { [SERVICE_LABEL]: state.spec.name, [INSTANCE_LABEL]: instance }, families });
  }
  return sources;
}
