// What application.stats holds: per service and instance its status, start time and restarts,
// and the engine's record of it (what a later master needs to remove it after a crash).
import type { ServiceState } from '../master/services.js';
import type { StatsFile } from './store.js';

export function statsSnapshot(services: Iterable<ServiceState>): StatsFile {
  const out: StatsFile = {};
  for (const state of services) {
    const instances: Record<string, Record<string, unknown>> = {};
    for (const [iname, sup] of state.instances) {
      instances[iname] = {
        status: sup.status,
        ...(sup.startedAt ? { start_time: sup.startedAt.toISOString() } : {}),
        restarts: sup.restarts,
        ...(sup.running ? sup.running.description.record : {}),
      };
    }
    out[state.spec.name] = instances;
  }
  return out;
}
