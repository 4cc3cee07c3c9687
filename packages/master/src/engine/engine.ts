// What the supervisor, the API, the master and the CLI need from an engine. Native runs
// processes, docker runs containers; nothing above this interface asks which one is running.
// An engine is an `EngineKind` registered by its conf.yml `mode` (registry.ts): a small object
// that knows the engine's rules (the API address its instances dial, what they inherit, its
// checks, where its instances' logs are) and starts the engine itself, whose code is loaded only
// then.
import type { Logger } from '@baetyl/core/log';
import type { AppSpec, ServiceSpec } from '../app/model.js';
import type { MasterConfig } from '../conf/schema.js';
import type { LogsRequest } from '../logs/request.js';
import type { LoadedConfig } from '../workdir/load.js';

export interface InstanceRequest {
  service: ServiceSpec;
  instance: string;
  /** The full environment the instance receives (user env, then the BAETYL_* system vars). */
  env: Record<string, string>;
  /**
   * Host files the instance must be able to read (the master API's TLS files): the engine makes
   * each readable in the instance and sets `env` to the path the instance sees it at.
   */
  files?: Array<{ env: string; hostPath: string }>;
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface ResourceUsage {
  cpu: { time: string; used_percent: number };
  mem: { time: string; total: number; used: number; used_percent: number };
}

/** Totals for the metrics: CPU time used since the instance started, and resident memory now. */
export interface ResourceTotals {
  cpuSeconds: number;
  rssBytes: number;
}

/**
 * What application.stats holds for an instance, so that a later master can find leftovers: the
 * engine's own keys beside the master's (status, restarts). Only the engine that wrote a record
 * reads its keys (recover()); to everything else it is opaque.
 */
export type InstanceRecord = Readonly<Record<string, unknown>>;

/** A running instance as the master shows it, in the engine's own words. */
export interface InstanceDescription {
  /** Kept in application.stats (see InstanceRecord). */
  readonly record: InstanceRecord;
  /** The instance's keys in the inspect document (Baetyl v1 §1.10: `process` or `container`). */
  readonly inspect: Readonly<Record<string, unknown>>;
  /** Fields of the log line saying it started (its pid, its container's id). */
  readonly logFields: Readonly<Record<string, string | number>>;
}

export interface RunningInstance {
  readonly name: string;
  readonly description: InstanceDescription;
  /** Resolves once, when the instance has exited (on its own or after stop). */
  readonly exited: Promise<ExitStatus>;
  /** Stops the instance: a polite signal, then a forced kill after `graceMs`. */
  stop(graceMs: number): Promise<void>;
  usage(): Promise<ResourceUsage | undefined>;
  /** Unlike usage(), no sample is kept: reading it does not change the next usage()'s percentages. */
  totals(): Promise<ResourceTotals | undefined>;
  /** The last lines the instance wrote to stdout/stderr. */
  recentOutput(): string[];
}

export interface Engine {
  /** The mode it was registered by (for log lines). */
  readonly name: string;
  /** Runs before services start (docker: network, images). */
  prepare(app: AppSpec): Promise<void>;
  /** Starts one instance. Throws an Error whose message says what to do when it cannot. */
  start(req: InstanceRequest): Promise<RunningInstance>;
  /**
   * Removes what a previous master left running, from the records application.stats kept (every
   * instance's, whatever engine wrote it: records not of this engine are skipped). Returns how
   * many it removed.
   */
  recover(records: InstanceRecord[]): Promise<number>;
  close(): Promise<void>;
}

/** What an engine is started with. */
export interface EngineContext {
  conf: MasterConfig;
  workdir: string;
  /** The master API socket on the host (unix addresses only). */
  socketPath?: string;
  log: Logger;
  /** conf.yml, for messages that say what to change. */
  confFile: string;
}

/** What `baetyl check` knows of a workdir, for an engine's own checks. */
export interface CheckTarget {
  workdir: string;
  appFile: string;
  app: AppSpec;
}

/** One service whose own config was found and loaded by `baetyl check`. */
export interface ServiceCheck {
  service: ServiceSpec;
  /** Its config file on the host. */
  configFile: string;
  /** The environment its config was templated with. */
  env: Record<string, string | undefined>;
  /** How check names the service in its lines: `service NAME (IMAGE)`. */
  label: string;
}

/** An engine, as registered by its mode: its rules, and how to start it. */
export interface EngineKind {
  /** conf.yml's `mode` that selects it; also BAETYL_SERVICE_MODE and what inspect reports. */
  readonly mode: string;
  /** Starts the engine; its code (dockerode, for docker) is loaded only here. */
  create(ctx: EngineContext): Promise<Engine>;
  /** BAETYL_MASTER_API_ADDRESS: how an instance dials the API the master serves at `address` (Baetyl v1 §1.4). */
  instanceApiAddress(address: string): string;
  /** The variables an instance inherits from the master's own environment (its service's env and the BAETYL_* vars go over them). */
  inheritedEnv(): Record<string, string>;
  /** `baetyl check`: what would keep this engine from starting the app's instances, each naming the file and what to change. */
  checkApp(target: CheckTarget): Promise<string[]>;
  /** `baetyl check`, per service with a loaded config: what would make it fail at start (warnings). */
  checkService(check: ServiceCheck): Promise<string[]>;
  /**
   * `baetyl logs NAME`: prints what the instances of a service (each line prefixed with its
   * instance), or one instance, wrote, as this engine keeps it; throws UnknownLogName
   * (logs/names.ts) for a name that is neither.
   */
  logs(loaded: LoadedConfig, name: string, req: LogsRequest): Promise<void>;
}

/** An error that retrying cannot fix (a missing build, an unknown image): the supervisor gives up at once. */
export class PermanentStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStartError';
  }
}
