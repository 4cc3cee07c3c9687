// The services the master runs and their instances (each kept up by a Supervisor): starting and
// stopping a service, the dynamic instances the API starts, and what instances report.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@baetyl/core/log';
import { checkMetricFamilies, REPORT_KEY, type MetricFamily } from '@baetyl/core/metrics/report';
import { staticInstances } from '../app/instance-names.js';
import type { ServiceSpec } from '../app/model.js';
import type { Engine } from '../engine/engine.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { mountsDigest } from '../update/volume-digest.js';
import type { InstanceEnvironment } from './instance-env.js';

export interface ServiceState {
  spec: ServiceSpec;
  /** Its read-only mounts' content when it started (update/volume-digest.ts). */
  digest: string;
  token: string;
  instances: Map<string, Supervisor>;
  /** Keys reported by instances through the API, merged into their stats. */
  reports: Map<string, Record<string, unknown>>;
  /** The Prometheus metrics last reported by each instance (kept only with a metrics endpoint). */
  metrics: Map<string, MetricFamily[]>;
  /** Set when an update stops the service: no instance may start on it any more. */
  removed?: boolean;
}

export interface ServiceRegistryOptions {
  workdir: string;
  engine: Engine;
  env: InstanceEnvironment;
  log: Logger;
  /** How long an instance gets to stop before it is killed. */
  graceMs: number;
  /** Whether reported Prometheus metrics are kept (a metrics endpoint serves them). */
  keepMetrics: () => boolean;
  /** Called when anything application.stats shows changed. */
  changed: () => void;
  /** Whether the master is stopping: no dynamic instance starts then. */
  stopping: () => boolean;
}

export class ServiceRegistry {
  private readonly services = new Map<string, ServiceState>();

  constructor(private readonly opts: ServiceRegistryOptions) {}

  /** Every service, in the order they started. */
  all(): IterableIterator<ServiceState> {
    return this.services.values();
  }

  get(name: string): ServiceState | undefined {
    return this.services.get(name);
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  tokenOf(service: string): string | undefined {
    return this.services.get(service)?.token;
  }

  /** The names of the static instances that do not run. */
  down(): string[] {
    return [...this.services.values()].flatMap((state) => [...state.instances.values()].filter((sup) => !sup.running).map((sup) => sup.name));
  }

  /** Starts a service's static instances; resolves with why the first one failed to start, if one did. */
  async startService(spec: ServiceSpec): Promise<string | undefined> {
    const state: ServiceState = {
      spec,
      digest: mountsDigest(this.opts.workdir, spec),
      token: randomUUID(),
      instances: new Map(),
      reports: new Map(),
      metrics: new Map(),
    };
    this.services.set(spec.name, state);
    this.opts.log.debug(`${spec.name} replica: ${spec.replica}`);
    let failed: string | undefined;
    for (const name of staticInstances(spec)) {
      const sup = await this.startInstance(state, name);
      if (!sup.running) failed ??= `instance (${name}): ${sup.lastError ?? 'it did not start'}`;
    }
    this.opts.log.info(`service (${spec.name}) started`);
    return failed;
  }

  /** Stops one service (an update replaces or removes it). */
  async stopService(name: string): Promise<void> {
    const state = this.services.get(name);
    if (!state) return;
    this.services.delete(name);
    state.removed = true;
    await Promise.all([...state.instances.values()].map((s) => s.stop(this.opts.graceMs)));
    this.opts.changed();
    this.opts.log.info(`service (${name}) stopped`);
  }

  /** Stops every service in parallel (the master stops). */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all(
      [...this.services.values()].map(async (state) => {
        await Promise.all([...state.instances.values()].map((s) => s.stop(graceMs)));
        this.opts.log.info(`service (${state.spec.name}) stopped`);
      }),
    );
  }

  private async startInstance(state: ServiceState, name: string, dynamic?: Record<string, string>): Promise<Supervisor> {
    const existing = state.instances.get(name);
    if (existing) await existing.stop(this.opts.graceMs);
    // Checked right before the instance is registered: stopService() stops what is registered.
    if (state.removed) throw new Error(`service (${state.spec.name}) is being stopped by an update; try again`);
    const req = this.opts.env.request({ service: state.spec, instance: name, token: state.token, ...(dynamic ? { dynamic } : {}) });
    const sup = new Supervisor(req, this.opts.engine, state.spec.restart, this.opts.log, {
      changed: () => this.opts.changed(),
      ended: (s) => {
        // A static instance that failed or exited stays listed with its status and error, so
        // `baetyl status` says why it does not run. A dynamic one's caller was answered already.
        const keep = !dynamic && (s.status === 'failed' || s.status === 'exited');
        if (!keep && state.instances.get(name) === s) state.instances.delete(name);
        state.reports.delete(name);
        state.metrics.delete(name);
        this.opts.changed();
      },
    });
    state.instances.set(name, sup);
    await sup.start();
    return sup;
  }

  /** Starts an instance the API asked for, with its caller's env; throws why it did not start. */
  async startDynamic(service: string, instance: string, env: Record<string, string>): Promise<void> {
    const state = this.services.get(service);
    if (!state) throw new Error(`service (${service}) not found`);
    if (this.opts.stopping()) throw new Error('master is stopping');
    const sup = await this.startInstance(state, instance, env);
    // The caller (the function manager) has its own retries: a dynamic instance is not restarted
    // by the master after a failed start, and the failure is the API's answer.
    if (!sup.running) {
      const why = sup.lastError ?? 'failed to start';
      await sup.stop(this.opts.graceMs);
      throw new Error(`instance (${instance}) ${why}`);
    }
  }

  async stopDynamic(service: string, instance: string): Promise<void> {
    const state = this.services.get(service);
    if (!state) throw new Error(`service (${service}) not found`);
    await state.instances.get(instance)?.stop(this.opts.graceMs);
  }

  /** Keys an instance reports through the API: shown by inspect, and its Prometheus part by the metrics endpoint. */
  report(service: string, instance: string, body: Record<string, unknown>): void {
    const state = this.services.get(service);
    if (!state) throw new Error(`service (${service}) not found`);
    if (!state.instances.has(instance)) throw new Error(`instance (${instance}) not found`);
    // The Prometheus part is kept apart: it is for the metrics endpoint, not for inspect.
    const { [REPORT_KEY]: prometheus, ...stats } = body;
    if (prometheus !== undefined && this.opts.keepMetrics()) state.metrics.set(instance, checkMetricFamilies(prometheus));
    state.reports.set(instance, { ...(state.reports.get(instance) ?? {}), ...stats });
  }
}
