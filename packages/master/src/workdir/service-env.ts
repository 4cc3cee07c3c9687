// The environment a service's config is templated with when it is read without starting the
// service (`baetyl check`, `baetyl logs` finding logger.path): as the service would get it, as
// far as that can be known before it runs.
import { platform } from 'node:os';
import { OPENEDGE_TWINS } from '@baetyl/core/context';
import type { ServiceSpec } from '../app/model.js';
import type { EngineKind } from '../engine/engine.js';

export function serviceEnv(service: ServiceSpec, engine: EngineKind): Record<string, string | undefined> {
  const system: Record<string, string> = {
    BAETYL_HOST_OS: platform(),
    BAETYL_MASTER_API_VERSION: 'v1',
    BAETYL_SERVICE_MODE: engine.mode,
    BAETYL_SERVICE_NAME: service.name,
    BAETYL_SERVICE_INSTANCE_NAME: service.name,
  };
  // A dynamic instance (replica 0, a function runtime) gets its address from the function manager.
  if (service.replica === 0) system.BAETYL_SERVICE_INSTANCE_ADDRESS = '127.0.0.1:0';
  for (const [k, v] of Object.entries({ ...system })) {
    const twin = OPENEDGE_TWINS[k];
    if (twin) system[twin] = v;
  }
  return { ...engine.inheritedEnv(), ...service.env, ...system };
}
