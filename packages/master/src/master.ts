// The master: loads conf.yml and application.yml, starts the engine and the API server, removes
// what a previous master left behind, starts services in order, and stops everything on request.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, freemem, hostname, loadavg, platform, totalmem, uptime } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { loadConfig, parseConfig } from '@baetyl/core/config';
import { closeLogger, createLogger, type Logger } from '@baetyl/core/log';
import { OPENEDGE_TWINS } from '@baetyl/core/context';
import { parseApiAddress } from '@baetyl/core/api';
import { checkMetricFamilies, INSTANCE_LABEL, REPORT_KEY, SERVICE_LABEL, type MetricFamily, type MetricSource } from '@baetyl/core/metrics/report';
import { loadApp } from './app/load.js';
import type { AppSpec, ServiceSpec } from './app/model.js';
import { masterConfigSchema, type MasterConfig } from './conf/schema.js';
import type { Engine } from './engine/engine.js';
import { createEngine, instanceApiAddress } from './engine/create.js';
import { ApiServer } from './api/server.js';
import { loadApiTls, loadMetricsTls, TLS_ENV, type ApiTls } from './api/tls.js';
import type { MetricsEndpoint } from './metrics/endpoint.js';
import type { InstanceView } from './metrics/registry.js';
import { readRecords, StatsWriter, type StatsFile } from './stats/store.js';
import { Supervisor } from './supervisor/supervisor.js';
import { applyUpdate, type UpdateHost, type UpdateReport, type UpdateRequest } from './update/apply.js';
import type { RunningService } from './update/keep-set.js';
import { mountsDigest } from './update/volume-digest.js';
import { VERSION } from './version.js';

export interface MasterOptions {
  workdir: string;
  /** conf.yml, relative to the workdir unless absolute. */
  config?: string;
  /** Also log to stderr (default true). */
  stderr?: boolean;
}

export interface LoadedConfig {
  workdir: string;
  confFile: string;
  appFile: string;
  conf: MasterConfig;
  app: AppSpec;
  /** The API's TLS files, read and checked (undefined: plain HTTP). */
  tls: ApiTls | undefined;
  /** The metrics endpoint's (conf.yml metrics.ca/cert/key). */
  metricsTls: ApiTls | undefined;
  warnings: string[];
}

export const DEFAULT_CONF = 'etc/baetyl/conf.yml';
export const APP_FILE = 'var/db/baetyl/application.yml';
export const STATS_FILE = 'var/db/baetyl/application.stats';
export const CLI_TOKEN_FILE = 'var/run/baetyl/cli.token';
export const PID_FILE = 'var/run/baetyl/baetyl.pid';
/** How long an instance an update started must run before the update counts it as started. */
export const UPDATE_SETTLE_MS = 5_000;

/** The workdir's conf.yml path. */
export function confPath(workdir: string, config = DEFAULT_CONF): string {
  return isAbsolute(config) ? config : join(workdir, config);
}

/** Reads conf.yml (defaults when absent) only: what `stop` and `status` need. */
export function loadMasterConfig(workdir: string, config?: string, warnings: string[] = []): MasterConfig {
  if (!existsSync(workdir)) throw new Error(`workdir ${workdir} does not exist; pass an existing directory with -w`);
  const file = confPath(workdir, config);
  if (!existsSync(file) && config === undefined) {
    warnings.push(`config file (${file}) not found, to use default config`);
    // An empty document gets every default from the schema.
    return parseConfig<MasterConfig>('{}', file, masterConfigSchema);
  }
  return loadConfig<MasterConfig>(file, masterConfigSchema, { onWarning: (w) => warnings.push(w) });
}

/** Loads and checks everything `start` needs, without starting anything. */
export function loadAll(workdir: string, config?: string): LoadedConfig {
  const warnings: string[] = [];
  const abs = resolve(workdir);
  const conf = loadMasterConfig(abs, config, warnings);
  const appFile = join(abs, APP_FILE);
  const app = existsSync(appFile) ? loadApp(appFile, { onWarning: (w) => warnings.push(w) }) : { version: '', services: [], volumes: {}, networks: {} };
  if (!existsSync(appFile)) warnings.push(`application (${appFile}) not found, no service to start`);
  const tls = loadApiTls(conf, abs, confPath(abs, config));
  const metricsTls = loadMetricsTls(conf, abs, confPath(abs, config));
  if (metricsTls && !conf.metrics.address) warnings.push(`${confPath(abs, config)}: metrics.cert and metrics.key are set but metrics.address is not, so there is no metrics endpoint: set metrics.address (e.g. tcp://127.0.0.1:9600)`);
  return { workdir: abs, confFile: confPath(abs, config), appFile, conf, app, tls, metricsTls, warnings };
}

interface ServiceState {
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

export class Master {
  readonly workdir: string;
  log!: Logger;
  private cfg!: LoadedConfig;
  private engine!: Engine;
  private api!: ApiServer;
  private metricsEndpoint?: MetricsEndpoint;
  private readonly services = new Map<string, ServiceState>();
  private stats!: StatsWriter;
  private stopping?: Promise<void>;
  /** The text of the application.yml that runs (undefined: there was none). */
  private committedText?: string;
  private updating?: Promise<UpdateReport>;
  private tls?: ApiTls;
  private updateError?: string;
  private readonly cliToken = randomBytes(24).toString('hex');
  private readonly startedAt = new Date();
  private ownsRunFiles = false;

  constructor(private readonly opts: MasterOptions) {
    this.workdir = resolve(opts.workdir);
  }

  get conf(): MasterConfig {
    return this.cfg.conf;
  }

  get app(): AppSpec {
    return this.cfg.app;
  }

  /** Starts everything; throws (with nothing left running) on bad config or a busy socket. */
  async start(): Promise<void> {
    this.cfg = loadAll(this.workdir, this.opts.config);
    this.tls = this.cfg.tls;
    this.committedText = existsSync(this.cfg.appFile) ? readFileSync(this.cfg.appFile, 'utf8') : undefined;
    process.chdir(this.workdir);
    for (const dir of ['var/db/baetyl', 'var/run/baetyl', 'var/log/baetyl']) mkdirSync(join(this.workdir, dir), { recursive: true });
    const { conf } = this.cfg;
    this.log = createLogger(conf.logger, { baetyl: 'master' }, { cwd: this.workdir, stderr: this.opts.stderr !== false });
    for (const w of this.cfg.warnings) this.log.warn(w);
    this.log.info(`mode: ${conf.mode}; grace: ${conf.grace * 1e6}; pwd: ${this.workdir}; api: ${conf.server.address}${this.tls ? ` (https${this.tls.ca ? ', client certificates checked against server.ca' : ''})` : ''}`);

    const address = parseApiAddress(conf.server.address);
    const socketPath = address.kind === 'unix' ? resolve(this.workdir, address.path) : undefined;
    this.engine = await createEngine({ conf, workdir: this.workdir, confFile: this.cfg.confFile, log: this.log, ...(socketPath ? { socketPath } : {}) });
    this.log.info('engine started');

    this.api = new ApiServer(this, this.log.child({ api: 'server' }));
    try {
      await this.api.listen(conf.server.address, conf.server.timeout, this.workdir, this.tls);
    } catch (err) {
      await this.engine.close();
      throw err;
    }
    this.log.info('server started');
    if (conf.metrics.address) {
      try {
        const { startMetricsEndpoint } = await import('./metrics/endpoint.js');
        this.metricsEndpoint = await startMetricsEndpoint({
          address: conf.metrics.address,
          tls: this.cfg.metricsTls,
          confFile: this.cfg.confFile,
          mode: conf.mode,
          log: this.log.child({ api: 'metrics' }),
          instances: () => this.instanceViews(),
          reports: () => this.reportedMetrics(),
        });
      } catch (err) {
        await this.api.close();
        await this.engine.close();
        throw err;
      }
      this.log.info(`metrics served on ${this.metricsEndpoint.url}${this.cfg.metricsTls?.ca ? ' (client certificates checked against metrics.ca)' : ''}`);
    }
    writeFileSync(join(this.workdir, CLI_TOKEN_FILE), this.cliToken, { mode: 0o600 });
    writeFileSync(join(this.workdir, PID_FILE), String(process.pid));
    this.ownsRunFiles = true;

    const statsFile = join(this.workdir, STATS_FILE);
    const leftovers = readRecords(statsFile);
    if (leftovers.length) {
      const removed = await this.engine.recover(leftovers);
      if (removed) this.log.warn(`removed ${removed} instance(s) left running by a previous master`);
    }
    this.stats = new StatsWriter(statsFile, () => this.snapshot());
    this.stats.flush();

    await this.engine.prepare(this.cfg.app);
    for (const spec of this.cfg.app.services) {
      if (this.stopping) return;
      await this.startService(spec);
    }
    this.log.info(`app version (${this.cfg.app.version}) committed`);
    const down = [...this.services.values()].flatMap((st) => [...st.instances.values()].filter((sup) => !sup.running).map((sup) => sup.name));
    if (down.length) this.log.warn(`services started, but ${down.length} instance(s) did not start (${down.join(', ')}): "baetyl status" says why`);
    else this.log.info('services started');
  }

  private systemEnv(): Record<string, string> {
    const { conf } = this.cfg;
    const address = parseApiAddress(conf.server.address);
    const env: Record<string, string> = {
      BAETYL_MASTER_API_ADDRESS: instanceApiAddress(conf.mode, conf.server.address),
      BAETYL_MASTER_API_VERSION: 'v1',
      BAETYL_HOST_OS: platform(),
      BAETYL_SERVICE_MODE: conf.mode,
    };
    if (address.kind === 'unix') env.BAETYL_MASTER_API_SOCKET = resolve(this.workdir, address.path);
    if (conf.snfile) {
      try {
        env.BAETYL_HOST_SN = readFileSync(resolve(this.workdir, conf.snfile), 'utf8').trim();
      } catch {
        this.log.warn(`snfile ${conf.snfile} cannot be read, BAETYL_HOST_SN is not set`);
      }
    }
    return env;
  }

  /**
   * The TLS files an instance needs to call the API, for the engine to make readable in it.
   * Only instances with a token get them: a dynamic instance cannot call the API anyway.
   */
  private apiFiles(): Array<{ env: string; hostPath: string }> {
    const f = this.tls?.files;
    if (!f) return [];
    // Without a CA the certificate is self-signed: the clients trust it, and present nothing.
    if (!f.ca) return [{ env: TLS_ENV.ca, hostPath: f.cert }];
    return [
      { env: TLS_ENV.ca, hostPath: f.ca },
      { env: TLS_ENV.cert, hostPath: f.cert },
      { env: TLS_ENV.key, hostPath: f.key },
    ];
  }

  private instanceEnv(state: ServiceState, instance: string, dynamic?: Record<string, string>): Record<string, string> {
    const system: Record<string, string> = {
      ...this.systemEnv(),
      BAETYL_SERVICE_NAME: state.spec.name,
      BAETYL_SERVICE_INSTANCE_NAME: instance,
    };
    if (!dynamic) system.BAETYL_SERVICE_TOKEN = state.token;
    for (const [k, v] of Object.entries({ ...system })) {
      const twin = OPENEDGE_TWINS[k];
      if (twin) system[twin] = v;
    }
    const inherited = this.cfg.conf.mode === 'native' ? (process.env as Record<string, string>) : {};
    const env = { ...inherited, ...state.spec.env, ...system, ...(dynamic ?? {}) };
    // A dynamic instance never gets a token: it cannot call the master API.
    if (dynamic) {
      delete env.BAETYL_SERVICE_TOKEN;
      delete env.OPENEDGE_SERVICE_TOKEN;
    }
    return env;
  }

  /** Starts a service's static instances; resolves with why the first one failed to start, if one did. */
  private async startService(spec: ServiceSpec): Promise<string | undefined> {
    const state: ServiceState = { spec, digest: mountsDigest(this.workdir, spec), token: randomUUID(), instances: new Map(), reports: new Map(), metrics: new Map() };
    this.services.set(spec.name, state);
    this.log.debug(`${spec.name} replica: ${spec.replica}`);
    let failed: string | undefined;
    for (let i = 0; i < spec.replica; i++) {
      const name = i === 0 ? spec.name : `${spec.name}.i${i}`;
      const sup = await this.startInstance(state, name);
      if (!sup.running) failed ??= `instance (${name}): ${sup.lastError ?? 'it did not start'}`;
    }
    this.log.info(`service (${spec.name}) started`);
    return failed;
  }

  private async stopService(name: string): Promise<void> {
    const state = this.services.get(name);
    if (!state) return;
    this.services.delete(name);
    state.removed = true;
    await Promise.all([...state.instances.values()].map((s) => s.stop(this.cfg.conf.grace)));
    this.stats.schedule();
    this.log.info(`service (${name}) stopped`);
  }

  // --- update (update/apply.ts) ---

  /**
   * Applies an update (one at a time); the report says what was kept, stopped and started.
   * Throws at once (not through the promise) when no update can start now.
   */
  update(req: UpdateRequest): Promise<UpdateReport> {
    if (this.stopping) throw new Error('master is stopping');
    if (this.updating) throw new Error('another update is in progress; wait for it to finish');
    const run = applyUpdate(this.updateHost(), req)
      .then((report) => {
        this.updateError = report.error;
        return report;
      })
      .finally(() => (this.updating = undefined));
    this.updating = run;
    return run;
  }

  private updateHost(): UpdateHost {
    const services = this.services;
    return {
      workdir: this.workdir,
      appFile: this.cfg.appFile,
      log: this.log,
      otalog: this.cfg.conf.otalog,
      committedText: this.committedText,
      committedApp: this.cfg.app,
      running: () => {
        const out = new Map<string, RunningService>();
        for (const [name, st] of services) out.set(name, { spec: st.spec, digest: st.digest, alive: [...st.instances.values()].some((s) => s.running) });
        return out;
      },
      digestOf: (spec) => mountsDigest(this.workdir, spec),
      checkConfigs: async (app, specs) => {
        // Loaded only when an update runs, as by `baetyl check`.
        const { checkServiceConfigs } = await import('./check/check.js');
        return (await checkServiceConfigs({ ...this.cfg, app }, specs)).errors;
      },
      prepare: (app) => this.engine.prepare(app),
      stopService: (name) => this.stopService(name),
      startService: (spec) => this.startService(spec),
      settle: async (names) => {
        const sups = names.flatMap((n) => [...(services.get(n)?.instances.values() ?? [])].map((sup) => ({ n, sup })));
        const failures = await Promise.all(sups.map(async ({ n, sup }) => {
          const why = await sup.failedWithin(UPDATE_SETTLE_MS);
          return why === undefined ? undefined : `service (${n}) instance (${sup.name}) ${why}`;
        }));
        return failures.find((f) => f !== undefined);
      },
      commit: (app, text) => {
        this.cfg = { ...this.cfg, app };
        this.committedText = text;
        this.stats.schedule();
      },
    };
  }

  private async startInstance(state: ServiceState, name: string, dynamic?: Record<string, string>): Promise<Supervisor> {
    const existing = state.instances.get(name);
    if (existing) await existing.stop(this.cfg.conf.grace);
    // Checked right before the instance is registered: stopService() stops what is registered.
    if (state.removed) throw new Error(`service (${state.spec.name}) is being stopped by an update; try again`);
    const sup = new Supervisor(
      { service: state.spec, instance: name, env: this.instanceEnv(state, name, dynamic), ...(dynamic ? {} : { files: this.apiFiles() }) },
      this.engine,
      state.spec.restart,
      this.log,
      {
        changed: () => this.stats.schedule(),
        ended: (s) => {
          // A static instance that failed or exited stays listed with its status and error, so
          // `baetyl status` says why it does not run. A dynamic one's caller was answered already.
          const keep = !dynamic && (s.status === 'failed' || s.status === 'exited');
          if (!keep && state.instances.get(name) === s) state.instances.delete(name);
          state.reports.delete(name);
          state.metrics.delete(name);
          this.stats.schedule();
        },
      },
    );
    state.instances.set(name, sup);
    await sup.start();
    return sup;
  }

  // --- used by the API ---

  hasService(name: string): boolean {
    return this.services.has(name);
  }

  tokenOf(service: string): string | undefined {
    return this.services.get(service)?.token;
  }

  get cliSecret(): string {
    return this.cliToken;
  }

  async startDynamic(service: string, instance: string, env: Record<string, string>): Promise<void> {
    const state = this.services.get(service);
    if (!state) throw new Error(`service (${service}) not found`);
    if (this.stopping) throw new Error('master is stopping');
    const sup = await this.startInstance(state, instance, env);
    // The caller (the function manager) has its own retries: a dynamic instance is not restarted
    // by the master after a failed start, and the failure is the API's answer.
    if (!sup.running) {
      const why = sup.lastError ?? 'failed to start';
      await sup.stop(this.cfg.conf.grace);
      throw new Error(`instance (${instance}) ${why}`);
    }
  }

  async stopDynamic(service: string, instance: string): Promise<void> {
    const state = this.services.get(service);
    if (!state) throw new Error(`service (${service}) not found`);
    await state.instances.get(instance)?.stop(this.cfg.conf.grace);
  }

  report(service: string, instance: string, body: Record<string, unknown>): void {
    const state = this.services.get(service);
    if (!state) throw new Error(`service (${service}) not found`);
    if (!state.instances.has(instance)) throw new Error(`instance (${instance}) not found`);
    // The Prometheus part is kept apart: it is for the metrics endpoint, not for inspect.
    const { [REPORT_KEY]: prometheus, ...stats } = body;
    if (prometheus !== undefined && this.metricsEndpoint) state.metrics.set(instance, checkMetricFamilies(prometheus));
    state.reports.set(instance, { ...(state.reports.get(instance) ?? {}), ...stats });
  }

  /** Every instance, for the master's own metrics. */
  private instanceViews(): InstanceView[] {
    return [...this.services.values()].flatMap((state) =>
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
  private reportedMetrics(): MetricSource[] {
    const sources: MetricSource[] = [];
    for (const [service, state] of this.services) {
      for (const [instance, families] of state.metrics) sources.push({ labels: { [SERVICE_LABEL]: service, [INSTANCE_LABEL]: instance }, families });
    }
    return sources;
  }

  private snapshot(): StatsFile {
    const out: StatsFile = {};
    for (const [name, state] of this.services) {
      const instances: Record<string, Record<string, unknown>> = {};
      for (const [iname, sup] of state.instances) {
        instances[iname] = {
          status: sup.status,
          ...(sup.startedAt ? { start_time: sup.startedAt.toISOString() } : {}),
          restarts: sup.restarts,
          ...(sup.running ? sup.running.record : {}),
        };
      }
      out[name] = instances;
    }
    return out;
  }

  /** The inspect document of Baetyl's API (§1.10), with per-instance cpu and memory. */
  async inspect(): Promise<Record<string, unknown>> {
    const services = [];
    for (const [name, state] of this.services) {
      const instances = [];
      for (const [iname, sup] of state.instances) {
        const usage = await sup.running?.usage();
        const rec = sup.running?.record;
        instances.push({
          name: iname,
          status: sup.status,
          ...(sup.startedAt ? { start_time: sup.startedAt.toISOString() } : {}),
          restarts: sup.restarts,
          ...(rec && 'process' in rec ? { process: { id: rec.process.id, name: rec.process.name } } : {}),
          ...(rec && 'container' in rec ? { container: rec.container } : {}),
          ...(usage ? { cpu_stats: usage.cpu, mem_stats: usage.mem } : {}),
          ...(sup.lastError && sup.status !== 'running' ? { error: sup.lastError } : {}),
          ...(sup.nextStartAt ? { next_start: sup.nextStartAt.toISOString() } : {}),
          ...(state.reports.get(iname) ?? {}),
        });
      }
      services.push({ name, instances });
    }
    const now = new Date().toISOString();
    return {
      ...(this.updateError ? { error: this.updateError } : {}),
      time: now,
      software: {
        os: platform(),
        arch: arch(),
        pwd: this.workdir,
        mode: this.cfg.conf.mode,
        node_version: process.version,
        bin_version: VERSION,
        git_revision: '',
        conf_version: this.cfg.app.version,
        start_time: this.startedAt.toISOString(),
        pid: String(process.pid),
      },
      hardware: {
        host_stats: { hostname: hostname(), uptime: uptime(), os: platform(), arch: arch() },
        mem_stats: { time: now, total: totalmem(), free: freemem(), used: totalmem() - freemem(), used_percent: Number((((totalmem() - freemem()) / totalmem()) * 100).toFixed(2)) },
        cpu_stats: { time: now, cores: cpus().length, load: loadavg() },
      },
      services,
    };
  }

  /** Stops every service in parallel, then the server and the engine. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    await this.api?.close();
    await this.metricsEndpoint?.close();
    this.log?.info('server stopped');
    // An update in progress finishes (or rolls back) first, so no service starts behind the stop.
    await this.updating?.catch(() => undefined);
    const grace = this.cfg?.conf.grace ?? 30_000;
    await Promise.all(
      [...this.services.values()].map(async (state) => {
        await Promise.all([...state.instances.values()].map((s) => s.stop(grace)));
        this.log.info(`service (${state.spec.name}) stopped`);
      }),
    );
    this.stats?.flush();
    await this.engine?.close();
    this.log?.info('engine stopped');
    // Only files this master wrote: a master refused for a busy socket must not remove the other's.
    if (this.ownsRunFiles) for (const f of [CLI_TOKEN_FILE, PID_FILE]) rmSync(join(this.workdir, f), { force: true });
    if (this.log) await closeLogger(this.log);
  }
}
