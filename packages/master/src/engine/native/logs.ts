// `baetyl logs SERVICE|INSTANCE` in native mode: the files the service's own config names
// (log-files.ts). An instance is known by the master's names for static instances, the instance
// directories there are now, and what application.stats recorded.
import { join } from 'node:path';
import type { ServiceSpec } from '../../app/model.js';
import { staticInstances } from '../../app/instance-names.js';
import { FileFollower } from '../../logs/file-tail.js';
import { followFiles, type Source } from '../../logs/files.js';
import { lineFields } from '../../logs/line-fields.js';
import { unknownLogName } from '../../logs/names.js';
import type { LogsRequest } from '../../logs/request.js';
import { recordedInstances } from '../../stats/store.js';
import type { LoadedConfig } from '../../workdir/load.js';
import { STATS_FILE } from '../../workdir/paths.js';
import { serviceEnv } from '../../workdir/service-env.js';
import type { EngineKind } from '../engine.js';
import { instanceDirs, perInstanceFile, serviceLog } from './log-files.js';

function knownInstances(loaded: LoadedConfig, s: ServiceSpec, recorded: Map<string, string[]>): string[] {
  return [...staticInstances(s), ...instanceDirs(loaded.workdir, s.name), ...(recorded.get(s.name) ?? [])];
}

export async function nativeLogs(loaded: LoadedConfig, name: string, req: LogsRequest, engine: EngineKind): Promise<void> {
  const envOf = (s: ServiceSpec) => serviceEnv(s, engine);
  const service = loaded.app.services.find((s) => s.name === name);
  if (service) return serviceLogs(loaded, service, undefined, req, envOf(service));
  const recorded = recordedInstances(join(loaded.workdir, STATS_FILE));
  const owner = loaded.app.services.find((s) => knownInstances(loaded, s, recorded).includes(name));
  if (!owner)
    throw unknownLogName(
      loaded,
      name,
      loaded.app.services.flatMap((s) => knownInstances(loaded, s, recorded)),
    );
  return serviceLogs(loaded, owner, name, req, envOf(owner));
}

/**
 * Prints a service's log (every instance), or one instance's. `instance` narrows a shared file
 * to the lines naming it; a service's sole instance shares its name and its lines name none.
 * `env` templates the service's config, where its logger.path is.
 */
async function serviceLogs(
  loaded: LoadedConfig,
  service: ServiceSpec,
  instance: string | undefined,
  req: LogsRequest,
  env: Record<string, string | undefined>,
): Promise<void> {
  const log = serviceLog(loaded, service, env);
  if (log.kind === 'none') throw new Error(`service ${service.name} writes no log file: ${log.why}`);
  if (log.kind === 'shared') {
    const labelOf = (line: string): string | undefined => {
      const f = lineFields(line);
      // Another service writing into the same volume.
      if (f.service && f.service !== service.name) return undefined;
      // runService names the instance (when it is not the service's own name); other `instance`
      // fields (the function manager's pool logs its runtimes' instances) name someone else.
      const from = f.instance?.startsWith(`${service.name}.`) ? f.instance : service.name;
      return instance === undefined || from === instance ? from : undefined;
    };
    await followFiles([{ follower: new FileFollower(log.file), labelOf }], req);
    return;
  }
  const path = log.path;
  const sources = new Map<string, Source>();
  const discover = () => {
    const found = instance === undefined ? instanceDirs(loaded.workdir, service.name) : [instance];
    const added: Source[] = [];
    for (const name of found) {
      if (sources.has(name)) continue;
      const s: Source = { follower: new FileFollower(perInstanceFile(loaded.workdir, service.name, name, path)), labelOf: () => name };
      sources.set(name, s);
      added.push(s);
    }
    return added;
  };
  await followFiles(discover(), req, () => discover());
}
