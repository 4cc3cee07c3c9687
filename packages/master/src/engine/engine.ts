// What the supervisor, the API and the master need from an engine. Native runs processes,
// docker runs containers; nothing above this interface asks which one is running.
import type { AppSpec, ServiceSpec } from '../app/model.js';

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

/** What is recorded in application.stats so a later master can find leftovers. */
export type InstanceRecord =
  | { process: { id: number; name: string; pgid: number; start_ticks: number } }
  | { container: { id: string; name: string } };

export interface RunningInstance {
  readonly name: string;
  readonly record: InstanceRecord;
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
  readonly name: 'native' | 'docker';
  /** Runs before services start (docker: network, images). */
  prepare(app: AppSpec): Promise<void>;
  /** Starts one instance. Throws an Error whose message says what to do when it cannot. */
  start(req: InstanceRequest): Promise<RunningInstance>;
  /** Removes what a previous master left running. Returns how many it removed. */
  recover(records: InstanceRecord[]): Promise<number>;
  close(): Promise<void>;
}

/** An error that retrying cannot fix (a missing build, an unknown image): the supervisor gives up at once. */
export class PermanentStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentStartError';
  }
}
