// What an update (update/apply.ts) does to the running master: it sees the services that run,
// stops and starts them through the registry, and commits the app that then runs.
import type { Logger, LoggerConfig } from '@baetyl/core/log';
import type { AppSpec } from '../app/model.js';
import type { Engine } from '../engine/engine.js';
import type { UpdateHost } from '../update/apply.js';
import type { RunningService } from '../update/keep-set.js';
import { mountsDigest } from '../update/volume-digest.js';
import type { LoadedConfig } from '../workdir/load.js';
import type { ServiceRegistry } from './services.js';

/** How long an instance an update started must run before the update counts it as started. */
export const UPDATE_SETTLE_MS = 5_000;

export interface UpdateTarget {
  loaded: LoadedConfig;
  committedText: string | undefined;
  log: Logger;
  otalog: LoggerConfig;
  engine: Engine;
  services: ServiceRegistry;
  /** The app now running, and the file text it came from. */
  commit(app: AppSpec, text: string | undefined): void;
}

export function updateHost(t: UpdateTarget): UpdateHost {
  const { loaded, services } = t;
  return {
    workdir: loaded.workdir,
    appFile: loaded.appFile,
    log: t.log,
    otalog: t.otalog,
    committedText: t.committedText,
    committedApp: loaded.app,
    running: () => {
      const out = new Map<string, RunningService>();
      for (const service of services.all())
        out.set(service.spec.name, { spec: service.spec, digest: service.digest, alive: [...service.instances.values()].some((s) => s.running) });
      return out;
    },
    digestOf: (spec) => mountsDigest(loaded.workdir, spec),
    checkConfigs: async (app, specs) => {
      // Loaded only when an update runs, as by `baetyl check`.
      const { checkServiceConfigs } = await import('../check/check.js');
      return (await checkServiceConfigs({ ...loaded, app }, specs)).errors;
    },
    prepare: (app) => t.engine.prepare(app),
    stopService: (name) => services.stopService(name),
    startService: (spec) => services.startService(spec),
    settle: async (names) => {
      const sups = names.flatMap((n) => [...(services.get(n)?.instances.values() ?? [])].map((sup) => ({ n, sup })));
      const failures = await Promise.all(
        sups.map(async ({ n, sup }) => {
          const why = await sup.failedWithin(UPDATE_SETTLE_MS);
          return why === undefined ? undefined : `service (${n}) instance (${sup.name}) ${why}`;
        }),
      );
      return failures.find((f) => f !== undefined);
    },
    commit: (app, text) => t.commit(app, text),
  };
}
