// Which services an update keeps running, stops and starts (Baetyl v1 §1.11's keep set).
// v1 kept a service when its converted config was deep-equal in the old and new application.yml
// and none of its volumes changed path. We compare the new file with what actually runs (the spec
// each service was started with), and also what its read-only mounts hold (volume-digest.ts), so
// a config file edited in place restarts the service that reads it. Unlike v1, inserting or
// reordering services does not restart the next one: the list order is only the start order.
import { isDeepStrictEqual } from 'node:util';
import type { AppSpec, ServiceSpec } from '../app/model.js';

/** A service the master runs now: the spec it was started with and its mounts' digest then. */
export interface RunningService {
  spec: ServiceSpec;
  digest: string;
  /** Whether any of its instances still runs (a service that gave up has none). */
  alive: boolean;
}

export interface UpdatePlan {
  /** Running services left untouched, in the new file's order. */
  keep: string[];
  /** Running services to stop: removed, or changed. */
  stop: string[];
  /** Services of the new file to start, in start order (changed ones and new ones). */
  start: ServiceSpec[];
  /** Why each stopped or started service is not kept, for the log and the CLI. */
  reasons: Record<string, string>;
}

function changeOf(now: RunningService, next: ServiceSpec, nextDigest: string): string | undefined {
  if (!isDeepStrictEqual(now.spec, next)) {
    const fields = (Object.keys({ ...now.spec, ...next }) as Array<keyof ServiceSpec>).filter((k) => !isDeepStrictEqual(now.spec[k], next[k]));
    return `its ${fields.join(', ')} changed`;
  }
  if (now.digest !== nextDigest) return 'the content of a read-only volume it mounts changed';
  // A service whose instances all gave up is started again: an update is the user's retry.
  if (next.replica > 0 && !now.alive) return 'it has no running instance';
  return undefined;
}

export function planUpdate(running: ReadonlyMap<string, RunningService>, next: AppSpec, digestOf: (spec: ServiceSpec) => string): UpdatePlan {
  const plan: UpdatePlan = { keep: [], stop: [], start: [], reasons: {} };
  const wanted = new Set(next.services.map((s) => s.name));
  for (const name of running.keys()) {
    if (!wanted.has(name)) {
      plan.stop.push(name);
      plan.reasons[name] = 'it is no longer in application.yml';
    }
  }
  for (const spec of next.services) {
    const now = running.get(spec.name);
    if (!now) {
      plan.start.push(spec);
      plan.reasons[spec.name] = 'it is new';
      continue;
    }
    const change = changeOf(now, spec, digestOf(spec));
    if (change === undefined) plan.keep.push(spec.name);
    else {
      plan.stop.push(spec.name);
      plan.start.push(spec);
      plan.reasons[spec.name] = change;
    }
  }
  return plan;
}
