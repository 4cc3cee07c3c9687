// `baetyl check`: everything `baetyl start` would refuse, found without starting anything.
// conf.yml and application.yml first, then the engine's own checks (a program for each image, in
// native mode); per service a retired image, and the service's own config, read through its
// mounts and checked by its own loader, then by the engine (an interpreter for a python runtime).
import { ConfigError } from '@baetyl/core/config';
import type { ServiceSpec } from '../app/model.js';
import { loadAll, type LoadedConfig } from '../workdir/load.js';
import { engineOf } from '../engine/engines.js';
import { shortImageName } from '../app/image-names.js';
import { hostPathOf, runtimeConfigPath } from '../engine/runtime-config.js';
import { retiredImage } from '../engine/retired-images.js';
import { SERVICE_CONFIG_CHECKERS } from './service-configs.js';
import { serviceEnv } from '../workdir/service-env.js';

export interface CheckReport {
  /** What was checked, one line per service. */
  checked: string[];
  /** Each names file:line:column and the path where it has one. */
  warnings: string[];
  errors: string[];
}

/** Checks a workdir as `baetyl start` would load it. Never throws for a problem in the files. */
export async function checkWorkdir(workdir: string, config?: string): Promise<CheckReport> {
  const report: CheckReport = { checked: [], warnings: [], errors: [] };
  let loaded: LoadedConfig;
  try {
    loaded = loadAll(workdir, config);
  } catch (err) {
    report.errors.push(err instanceof ConfigError ? err.message : (err as Error).message);
    return report;
  }
  report.warnings.push(...loaded.warnings);
  report.errors.push(...(await engineOf(loaded.conf).checkApp(loaded)));
  for (const service of loaded.app.services) await checkService(loaded, service, report);
  report.warnings = [...new Set(report.warnings)];
  return report;
}

/** The own configs of some services of an app (what an update is about to start): check's report for them. */
export async function checkServiceConfigs(loaded: LoadedConfig, services: ServiceSpec[]): Promise<CheckReport> {
  const report: CheckReport = { checked: [], warnings: [], errors: [] };
  for (const service of services) await checkService(loaded, service, report);
  return report;
}

async function checkService(loaded: LoadedConfig, service: ServiceSpec, report: CheckReport): Promise<void> {
  const label = `service ${service.name} (${service.image})`;
  const retired = retiredImage(service.image);
  if (retired) {
    report.warnings.push(`${label} will fail at start: ${retired}`);
    report.checked.push(`${label}: not started (a retired image)`);
    return;
  }
  const short = shortImageName(service.image);
  const checker = SERVICE_CONFIG_CHECKERS[short];
  if (!checker) {
    report.checked.push(`${label}: its config is not checked: no config checker for ${short}`);
    return;
  }
  const inside = runtimeConfigPath(service);
  const file = hostPathOf(loaded.workdir, service, inside);
  if (!file) {
    report.errors.push(
      `${loaded.appFile}: ${label}: its config ${inside} is not in any of its mounts; mount the volume holding its service.yml at ${inside.replace(/\/[^/]*$/, '')}`,
    );
    return;
  }
  const engine = engineOf(loaded.conf);
  const env = serviceEnv(service, engine);
  try {
    await checker(file, { env, onWarning: (w) => report.warnings.push(w) });
    report.checked.push(`${label}: ${file}: OK`);
  } catch (err) {
    report.errors.push(err instanceof ConfigError ? err.message : `${file}: ${(err as Error).message}`);
    report.checked.push(`${label}: ${file}: ${err instanceof ConfigError ? `${err.problems.length} problem(s)` : 'cannot be checked'}`);
    return;
  }
  report.warnings.push(...(await engine.checkService({ service, configFile: file, env, label })));
}
