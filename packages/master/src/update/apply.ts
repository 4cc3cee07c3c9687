// `PUT /v1/system/update` type APP (Baetyl v1 §1.11): put the new application.yml in place, keep
// the services it does not change, stop the others, start the new ones in order, and commit; or,
// when a new service fails to start, restore the previous file and run its services again.
// The procedure is the list of steps in applyUpdate(); each step is a function below.
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import type { Logger, LoggerConfig } from '@baetyl/core/log';
import type { AppSpec, ServiceSpec } from '../app/model.js';
import { loadApp } from '../app/load.js';
import { planUpdate, type RunningService, type UpdatePlan } from './keep-set.js';
import { OtaLog } from './ota-log.js';

/** What the update needs from the master. */
export interface UpdateHost {
  readonly workdir: string;
  /** application.yml, absolute. */
  readonly appFile: string;
  readonly log: Logger;
  readonly otalog: LoggerConfig;
  /** The text of the application.yml the running services came from (undefined: there was none). */
  readonly committedText: string | undefined;
  readonly committedApp: AppSpec;
  running(): ReadonlyMap<string, RunningService>;
  digestOf(spec: ServiceSpec): string;
  /** The problems in the own configs of `services` of `app` (as `baetyl check` finds them); none: []. */
  checkConfigs(app: AppSpec, services: ServiceSpec[]): Promise<string[]>;
  prepare(app: AppSpec): Promise<void>;
  stopService(name: string): Promise<void>;
  /** Starts a service's static instances; resolves with why the first start failed, if it did. */
  startService(spec: ServiceSpec): Promise<string | undefined>;
  /** Resolves with why an instance started by this update failed within the settle time, if one did. */
  settle(names: string[]): Promise<string | undefined>;
  /** The app now running, and the file text it came from. */
  commit(app: AppSpec, text: string | undefined): void;
}

export interface UpdateRequest {
  /** A file, or a directory holding application.yml; relative to the workdir. None: reload application.yml. */
  path?: string;
  trace?: string;
}

export type UpdateOutcome = 'updated' | 'rolled back' | 'refused' | 'failed';

export interface UpdateReport {
  outcome: UpdateOutcome;
  version: string;
  kept: string[];
  stopped: string[];
  started: string[];
  reasons: Record<string, string>;
  error?: string;
}

const BACKUP_SUFFIX = '.old';
const REJECTED_SUFFIX = '.rejected';

export async function applyUpdate(host: UpdateHost, req: UpdateRequest): Promise<UpdateReport> {
  const ota = OtaLog.open(host.otalog, host.workdir, { type: 'APP', trace: req.trace ?? '' }, req.path !== undefined && req.path !== '');
  const report: UpdateReport = { outcome: 'updated', version: host.committedApp.version, kept: [], stopped: [], started: [], reasons: {} };
  try {
    ota.step('UPDATING', 'app is updating');
    host.log.info('app is updating', req.path ? { path: req.path } : {});
    let next: AppSpec;
    let source: string | undefined;
    try {
      source = locateSource(host, req.path);
      next = loadApp(source);
      // The services it would start have their own configs checked too: a runtime started on
      // demand would otherwise fail only at its first message, long after the commit.
      const toStart = planUpdate(host.running(), next, (s) => host.digestOf(s)).start;
      const problems = await host.checkConfigs(next, toStart);
      if (problems.length) throw new Error(`a service's own config is invalid:\n${problems.join('\n')}`);
    } catch (err) {
      // A missing path has changed nothing; only an in-place edit has a file to set aside.
      return refuse(host, ota, report, !req.path || source === host.appFile, err as Error);
    }
    backupCommitted(host);
    if (source !== host.appFile) copyFileSync(source, host.appFile);
    const inPlace = source === host.appFile;
    const plan = planUpdate(host.running(), next, (s) => host.digestOf(s));
    Object.assign(report, { kept: plan.keep, reasons: plan.reasons });
    logPlan(host.log, plan);

    const failure = await runNewApp(host, next, plan, report);
    if (failure === undefined) {
      commit(host, next);
      report.version = next.version;
      ota.step('UPDATED', 'app is updated');
      return report;
    }
    return await rollBack(host, ota, plan, report, inPlace, failure);
  } finally {
    await ota.close();
  }
}

// --- the steps ---

/** application.yml.old: the file the running services came from, to restore on failure. */
function backupCommitted(host: UpdateHost): void {
  const backup = host.appFile + BACKUP_SUFFIX;
  if (host.committedText === undefined) rmSync(backup, { force: true });
  else writeFileSync(backup, host.committedText);
}

/** The file the update names (a file, or <dir>/application.yml); application.yml itself without a path. */
function locateSource(host: UpdateHost, path: string | undefined): string {
  if (!path) return host.appFile;
  let source = resolve(host.workdir, path);
  if (!existsSync(source)) throw new Error(`the update names ${path}, which does not exist (paths are relative to the workdir ${host.workdir})`);
  if (statSync(source).isDirectory()) source = join(source, 'application.yml');
  if (!existsSync(source)) throw new Error(`the update names the directory ${path}, which holds no application.yml`);
  return resolve(source);
}

/**
 * Puts the previous application.yml back. A file edited in place is kept beside it as
 * application.yml.rejected: the edit is not lost, and a master restart still runs what ran.
 */
function restoreFile(host: UpdateHost, inPlace: boolean): string | undefined {
  const backup = host.appFile + BACKUP_SUFFIX;
  let kept: string | undefined;
  if (inPlace && existsSync(host.appFile)) {
    kept = host.appFile + REJECTED_SUFFIX;
    renameSync(host.appFile, kept);
  }
  if (existsSync(backup)) renameSync(backup, host.appFile);
  else if (host.committedText !== undefined) writeFileSync(host.appFile, host.committedText);
  else rmSync(host.appFile, { force: true });
  return kept;
}

/** A file that does not load changes nothing that runs; a file named by path was not installed. */
function refuse(host: UpdateHost, ota: OtaLog, report: UpdateReport, inPlace: boolean, err: Error): UpdateReport {
  ota.step('ROLLINGBACK', 'failed to reload config', err.message);
  let error = err.message;
  if (inPlace) {
    backupCommitted(host);
    const kept = restoreFile(host, true);
    // The problems are reported against the kept copy: the same lines, in a file that still has them.
    if (kept && err instanceof ConfigError) error = new ConfigError(kept, err.problems).message;
    if (kept) error += `\n(application.yml is back to the running version; your edit is kept as ${kept})`;
  }
  if (err instanceof ConfigError) error = `invalid application:\n${error}`;
  host.log.error(`failed to update system: ${error}`);
  host.log.info('app is rolled back');
  ota.step('ROLLEDBACK', 'app is rolled back');
  return { ...report, outcome: 'refused', error };
}

/** Prepares the engine, stops what changed, starts what is new in order, and watches it start. */
async function runNewApp(host: UpdateHost, next: AppSpec, plan: UpdatePlan, report: UpdateReport): Promise<string | undefined> {
  await host.prepare(next);
  await Promise.all(plan.stop.map((name) => host.stopService(name)));
  report.stopped = [...plan.stop];
  for (const spec of plan.start) {
    report.started.push(spec.name);
    const failed = await host.startService(spec);
    if (failed !== undefined) return `service (${spec.name}) failed to start: ${failed}`;
  }
  return host.settle(report.started);
}

function commit(host: UpdateHost, next: AppSpec): void {
  host.commit(next, readText(host.appFile));
  rmSync(host.appFile + BACKUP_SUFFIX, { force: true });
  host.log.info(`app version (${next.version}) committed`);
}

async function rollBack(host: UpdateHost, ota: OtaLog, plan: UpdatePlan, report: UpdateReport, inPlace: boolean, failure: string): Promise<UpdateReport> {
  ota.step('ROLLINGBACK', 'failed to start app', failure);
  host.log.error(`failed to start app: ${failure}; rolling back`);
  const previous = host.committedApp;
  const previousText = host.committedText;
  const kept = restoreFile(host, inPlace);
  const error = kept ? `${failure} (application.yml is back to the running version; your edit is kept as ${kept})` : failure;
  // Stop what this update started, then start again what it stopped, in the old order.
  await Promise.all(report.started.map((name) => host.stopService(name)));
  const again = previous.services.filter((s) => plan.stop.includes(s.name));
  let rollbackFailure: string | undefined;
  await host.prepare(previous);
  for (const spec of again) {
    const failed = await host.startService(spec);
    if (failed !== undefined) rollbackFailure ??= `service (${spec.name}) failed to start again: ${failed}`;
  }
  host.commit(previous, previousText);
  host.log.info(`app version (${previous.version}) committed`);
  if (rollbackFailure) {
    host.log.error(`failed to roll back: ${rollbackFailure}`);
    ota.step('FAILURE', 'failed to roll back', rollbackFailure);
    return { ...report, outcome: 'failed', error: `${error}; failed to roll back: ${rollbackFailure}` };
  }
  host.log.info('app is rolled back');
  ota.step('ROLLEDBACK', 'app is rolled back');
  return { ...report, outcome: 'rolled back', error };
}

function logPlan(log: Logger, plan: UpdatePlan): void {
  for (const name of plan.keep) log.debug(`service (${name}) unchanged, kept`);
  const starting = new Set(plan.start.map((s) => s.name));
  for (const [name, why] of Object.entries(plan.reasons)) {
    const what = !starting.has(name) ? 'stopped' : plan.stop.includes(name) ? 'restarted' : 'started';
    log.info(`service (${name}) will be ${what}: ${why}`);
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
