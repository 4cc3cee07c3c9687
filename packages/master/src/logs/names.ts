// The error of `baetyl logs NAME` for a name that is neither a service nor an instance.
import type { LoadedConfig } from '../workdir/load.js';

export class UnknownLogName extends Error {}

/** The error, listing the services and the other instances there are. */
export function unknownLogName(loaded: LoadedConfig, name: string, instances: string[]): UnknownLogName {
  const services = loaded.app.services.map((s) => s.name);
  const others = [...new Set(instances)].filter((i) => !services.includes(i)).sort();
  return new UnknownLogName(
    `no service or instance named "${name}" in ${loaded.appFile}: services: ${services.join(', ') || '(none)'}${others.length ? `; instances: ${others.join(', ')}` : ''}` +
      "; or leave the name out for the master's own log",
  );
}
