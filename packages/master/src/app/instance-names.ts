// How the master names a service's static instances: the first one after the service, the
// others `<service>.i<n>` (as Baetyl v1 did).
import type { ServiceSpec } from './model.js';

export function staticInstances(service: Pick<ServiceSpec, 'name' | 'replica'>): string[] {
  return Array.from({ length: service.replica }, (_, i) => (i === 0 ? service.name : `${service.name}.i${i}`));
}
