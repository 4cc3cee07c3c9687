// A ServiceSpec as the app loader makes it from a service with no optional keys set, for tests
// of what consumes one (the update plan, the container options, the native images).
import type { ServiceSpec } from '../src/app/model.js';

export function serviceSpec(name: string, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    image: 'test-program',
    replica: 1,
    mounts: [],
    ports: [],
    devices: [],
    args: [],
    entrypoint: [],
    env: {},
    restart: { policy: 'always', retry: { max: 0 }, backoff: { min: 1000, max: 300000, factor: 2, reset: 60000 } },
    resources: {},
    ...extra,
  };
}
