// Reading a workdir's configuration: conf.yml, application.yml and the TLS files they name, all
// checked before anything starts.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig, parseConfig } from '@baetyl/core/config';
import { loadApp } from '../app/load.js';
import type { AppSpec } from '../app/model.js';
import { masterConfigSchema, type MasterConfig } from '../conf/schema.js';
import { loadApiTls, loadMetricsTls, type ApiTls } from '../api/tls.js';
import { APP_FILE, confPath } from './paths.js';

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
  if (metricsTls && !conf.metrics.address)
    warnings.push(
      `${confPath(abs, config)}: metrics.cert and metrics.key are set but metrics.address is not, so there is no metrics endpoint: set metrics.address (e.g. tcp://127.0.0.1:9600)`,
    );
  return { workdir: abs, confFile: confPath(abs, config), appFile, conf, app, tls, metricsTls, warnings };
}
