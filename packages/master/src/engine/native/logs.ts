// `baetyl logs SERVICE|INSTANCE` in native mode: the files the service's own config names
// (src/logs/locations.ts). An instance is known by the master's names for static instances, the
// instance directories there are now, and what application.stats recorded.
import type { ServiceSpec } from '../../app/model.js';
import { serviceLogs } from '../../logs/files.js';
import type { LogsRequest } from '../../logs/request.js';
import { instanceDirs, recordedInstances, staticInstances } from '../../logs/locations.js';
import { unknownLogName } from '../../logs/names.js';
import type { LoadedConfig } from '../../workdir/load.js';
import { serviceEnv } from '../../workdir/service-env.js';
import type { EngineKind } from '../engine.js';

function knownInstances(loaded: LoadedConfig, s: ServiceSpec, recorded: Map<string, string[]>): string[] {
  return [...staticInstances(s), ...instanceDirs(loaded.workdir, s.name), ...(recorded.get(s.name) ?? [])];
}

export async function nativeLogs(loaded: LoadedConfig, name: string, req: LogsRequest, engine: EngineKind): Promise<void> {
  const envOf = (s: ServiceSpec) => serviceEnv(s, engine);
  const service = loaded.app.services.find((s) => s.name === name);
  if (service) return serviceLogs(loaded, service, undefined, req, envOf(service));
  const recorded = recordedInstances(loaded.workdir);
  const owner = loaded.app.services.find((s) => knownInstances(loaded, s, recorded).includes(name));
  if (!owner) throw unknownLogName(loaded, name, loaded.app.services.flatMap((s) => knownInstances(loaded, s, recorded)));
  return serviceLogs(loaded, owner, name, req, envOf(owner));
}
