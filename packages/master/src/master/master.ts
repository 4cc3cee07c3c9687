// The master: loads the workdir's configuration, starts the engine and the API server, removes
// what a previous master left behind, starts services in order, and stops everything on request.
// This file puts the concerns together; each lives in a file of its own:
//   workdir/paths.ts, workdir/load.ts   where the files are, and reading conf.yml and application.yml
//   master/instance-env.ts              an instance's environment
//   master/services.ts                  the services and their instances (the registry)
//   master/api-handlers.ts              what the API's routes do (api/server.ts serves them)
//   master/update-host.ts               what an update does to the running services (update/apply.ts)
//   stats/snapshot.ts, stats/store.ts   application.stats
//   master/inspect.ts                   the inspect document
//   master/shutdown.ts                  the order of the stop
// The engine (engine/) is the one conf.yml's mode names; nothing here asks which one it is.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, type Logger } from '@baetyl/core/log';
import { startLoggedIdleTrim, type IdleTrim } from '@baetyl/core/memory';
import { parseApiAddress } from '@baetyl/core/api';
import type { AppSpec } from '../app/model.js';
import type { MasterConfig } from '../conf/schema.js';
import type { Engine, EngineKind } from '../engine/engine.js';
import { engineOf } from '../engine/engines.js';
import { ApiServer } from '../api/server.js';
import type { MetricsEndpoint } from '../metrics/endpoint.js';
import { instanceViews, reportedMetrics } from '../metrics/sources.js';
import { statsSnapshot } from '../stats/snapshot.js';
import { readRecords, StatsWriter } from '../stats/store.js';
import { applyUpdate, type UpdateReport, type UpdateRequest } from '../update/apply.js';
import { loadAll, type LoadedConfig } from '../workdir/load.js';
import { CLI_TOKEN_FILE, MASTER_DIRS, PID_FILE, STATS_FILE } from '../workdir/paths.js';
import { apiHandlers } from './api-handlers.js';
import { inspectDocument } from './inspect.js';
import { InstanceEnvironment } from './instance-env.js';
import { ServiceRegistry } from './services.js';
import { shutdown } from './shutdown.js';
import { updateHost } from './update-host.js';

export interface MasterOptions {
  workdir: string;
  /** conf.yml, relative to the workdir unless absolute. */
  config?: string;
  /** Also log to stderr (default true). */
  stderr?: boolean;
  /**
   * Called when a client asks the master to stop (`baetyl stop`, PUT /system/stop), after it was
   * answered. The CLI stops the master and exits; without it the master only stops.
   */
  onStopRequest?: () => void;
}

export class Master {
  readonly workdir: string;
  log!: Logger;
  private cfg!: LoadedConfig;
  private kind!: EngineKind;
  private engine?: Engine;
  private api?: ApiServer;
  private metricsEndpoint?: MetricsEndpoint;
  private trim?: IdleTrim;
  private services?: ServiceRegistry;
  private stats?: StatsWriter;
  private stopping?: Promise<void>;
  /** The text of the application.yml that runs (undefined: there was none). */
  private committedText?: string;
  private updating?: Promise<UpdateReport>;
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
    const { conf, tls } = this.cfg;
    this.kind = engineOf(conf);
    this.committedText = existsSync(this.cfg.appFile) ? readFileSync(this.cfg.appFile, 'utf8') : undefined;
    process.chdir(this.workdir);
    for (const dir of MASTER_DIRS) mkdirSync(join(this.workdir, dir), { recursive: true });
    this.log = createLogger(conf.logger, { baetyl: 'master' }, { cwd: this.workdir, stderr: this.opts.stderr !== false });
    for (const w of this.cfg.warnings) this.log.warn(w);
    this.log.info(
      `mode: ${this.kind.mode}; grace: ${conf.grace * 1e6}; pwd: ${this.workdir}; api: ${conf.server.address}${tls ? ` (https${tls.ca ? ', client certificates checked against server.ca' : ''})` : ''}`,
    );

    const address = parseApiAddress(conf.server.address);
    const socketPath = address.kind === 'unix' ? resolve(this.workdir, address.path) : undefined;
    const engine = await this.kind.create({ conf, workdir: this.workdir, confFile: this.cfg.confFile, log: this.log, ...(socketPath ? { socketPath } : {}) });
    this.engine = engine;
    this.log.info('engine started');

    const services = new ServiceRegistry({
      workdir: this.workdir,
      engine,
      env: new InstanceEnvironment({ conf, workdir: this.workdir, engine: this.kind, tls, log: this.log }),
      log: this.log,
      graceMs: conf.grace,
      keepMetrics: () => this.metricsEndpoint !== undefined,
      changed: () => this.stats?.schedule(),
      stopping: () => this.stopping !== undefined,
    });
    this.services = services;

    this.api = new ApiServer(
      apiHandlers({
        cliSecret: this.cliToken,
        services,
        inspect: () => this.inspect(),
        update: (req) => this.update(req),
        stopRequested: () => (this.opts.onStopRequest ? this.opts.onStopRequest() : void this.stop()),
      }),
      this.log.child({ api: 'server' }),
    );
    try {
      await this.api.listen(conf.server.address, conf.server.timeout, this.workdir, tls);
    } catch (err) {
      await engine.close();
      throw err;
    }
    this.log.info('server started');
    if (conf.metrics.address) {
      const { startMetricsEndpoint } = await import('../metrics/endpoint.js');
      this.metricsEndpoint = await startMetricsEndpoint({
        address: conf.metrics.address,
        tls: this.cfg.metricsTls,
        confFile: this.cfg.confFile,
        mode: this.kind.mode,
        log: this.log.child({ api: 'metrics' }),
        instances: () => instanceViews(services.all()),
        reports: () => reportedMetrics(services.all()),
      }).catch(async (err: unknown) => {
        await this.api?.close();
        await engine.close();
        throw err;
      });
      this.log.info(`metrics served on ${this.metricsEndpoint.url}${this.cfg.metricsTls?.ca ? ' (client certificates checked against metrics.ca)' : ''}`);
    }
    writeFileSync(join(this.workdir, CLI_TOKEN_FILE), this.cliToken, { mode: 0o600 });
    writeFileSync(join(this.workdir, PID_FILE), String(process.pid));
    this.ownsRunFiles = true;

    const statsFile = join(this.workdir, STATS_FILE);
    const leftovers = readRecords(statsFile);
    if (leftovers.length) {
      const removed = await engine.recover(leftovers);
      if (removed) this.log.warn(`removed ${removed} instance(s) left running by a previous master`);
    }
    this.stats = new StatsWriter(statsFile, () => statsSnapshot(services.all()));
    this.stats.flush();

    await engine.prepare(this.cfg.app);
    for (const spec of this.cfg.app.services) {
      if (this.stopping) return;
      await services.startService(spec);
    }
    this.log.info(`app version (${this.cfg.app.version}) committed`);
    const down = services.down();
    if (down.length) this.log.warn(`services started, but ${down.length} instance(s) did not start (${down.join(', ')}): "baetyl status" says why`);
    else this.log.info('services started');
    this.trim ??= startLoggedIdleTrim((m) => this.log.debug(m));
  }

  /**
   * Applies an update (one at a time); the report says what was kept, stopped and started.
   * Throws at once (not through the promise) when no update can start now.
   */
  update(req: UpdateRequest): Promise<UpdateReport> {
    if (this.stopping) throw new Error('master is stopping');
    if (this.updating) throw new Error('another update is in progress; wait for it to finish');
    if (!this.engine || !this.services) throw new Error('master is starting');
    const host = updateHost({
      loaded: this.cfg,
      committedText: this.committedText,
      log: this.log,
      otalog: this.cfg.conf.otalog,
      engine: this.engine,
      services: this.services,
      commit: (app, text) => {
        this.cfg = { ...this.cfg, app };
        this.committedText = text;
        this.stats?.schedule();
      },
    });
    const run = applyUpdate(host, req)
      .then((report) => {
        this.updateError = report.error;
        return report;
      })
      .finally(() => (this.updating = undefined));
    this.updating = run;
    return run;
  }

  /** The inspect document of Baetyl's API (§1.10), with per-instance cpu and memory. */
  inspect(): Promise<Record<string, unknown>> {
    return inspectDocument({
      workdir: this.workdir,
      mode: this.kind.mode,
      appVersion: this.cfg.app.version,
      startedAt: this.startedAt,
      updateError: this.updateError,
      services: this.services?.all() ?? [],
    });
  }

  /** Stops every service in parallel, then the server and the engine. Idempotent. */
  stop(): Promise<void> {
    this.trim?.stop();
    // Each part is read as the stop reaches it: a stop may come while the start is still going.
    this.stopping ??= shutdown(() => ({
      workdir: this.workdir,
      log: this.log as Logger | undefined,
      api: this.api,
      metricsEndpoint: this.metricsEndpoint,
      updating: this.updating,
      services: this.services,
      graceMs: this.cfg?.conf.grace ?? 30_000,
      stats: this.stats,
      engine: this.engine,
      // Only files this master wrote: a master refused for a busy socket must not remove the other's.
      runFiles: this.ownsRunFiles ? [CLI_TOKEN_FILE, PID_FILE] : [],
    }));
    return this.stopping;
  }
}
