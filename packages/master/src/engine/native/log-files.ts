// Where a native instance's log is, as its service's config puts it: the logger.path of its own
// service.yml, relative to the instance's directory (var/run/baetyl/services/<service>/<instance>),
// which holds the service's mounts: a path inside a mount is in that volume (one file, shared by
// every instance of the service), any other path is in the instance's own directory (one file per
// instance, gone when the instance's directory is removed at its exit).
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parseYaml, readConfigText } from '@baetyl/core/config';
import type { ServiceSpec } from '../../app/model.js';
import { hostPathOf, runtimeConfigPath } from '../runtime-config.js';
import { instanceDirOf } from './instance-dir.js';
import type { LoadedConfig } from '../../workdir/load.js';

/** A service's log, or why it has none. */
export type ServiceLog =
  /** One file in a volume (or an absolute path): every instance writes to it. */
  | { kind: 'shared'; file: string; config: string; path: string }
  /** A file in each instance's directory: `path` relative to it. */
  | { kind: 'per-instance'; config: string; path: string }
  | { kind: 'none'; why: string };

/** Where a service's instances write their log, from the logger.path of its service.yml (templated with `env`). */
export function serviceLog(loaded: LoadedConfig, service: ServiceSpec, env: Record<string, string | undefined>): ServiceLog {
  const inside = runtimeConfigPath(service);
  const config = hostPathOf(loaded.workdir, service, inside);
  if (!config) return { kind: 'none', why: `its config ${inside} is not in any of its mounts, so no logger.path is known` };
  if (!existsSync(config)) return { kind: 'none', why: `its config ${config} does not exist` };
  let value: unknown;
  try {
    value = parseYaml(readConfigText(config), config, { env }).value;
  } catch (err) {
    return { kind: 'none', why: (err as Error).message };
  }
  const path = (value as { logger?: { path?: unknown } } | null)?.logger?.path;
  if (typeof path !== 'string' || path === '') {
    return {
      kind: 'none',
      why: `${config} sets no logger.path, so its instances log only to their stderr (the master writes an instance's last lines to its own log when the instance fails). To keep a log file, add "logger: {path: var/log/baetyl/service.log}" to it, and mount a volume at var/log/baetyl`,
    };
  }
  // A native instance sees the host's files: an absolute path is the host's.
  if (isAbsolute(path)) return { kind: 'shared', file: path, config, path };
  const inVolume = hostPathOf(loaded.workdir, service, path);
  if (inVolume) return { kind: 'shared', file: inVolume, config, path };
  return { kind: 'per-instance', config, path };
}

/** The instances of a service that have a directory now (running native instances). */
export function instanceDirs(workdir: string, service: string): string[] {
  try {
    return readdirSync(join(workdir, 'var', 'run', 'baetyl', 'services', service)).sort();
  } catch {
    return [];
  }
}

export function perInstanceFile(workdir: string, service: string, instance: string, path: string): string {
  return join(instanceDirOf(workdir, service, instance), path);
}
