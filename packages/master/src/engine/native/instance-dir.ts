// Each native instance gets its own directory, holding its mounts as symlinks to the volumes'
// paths under the workdir, and the master API socket at var/run/baetyl.sock.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ServiceSpec } from '../../app/model.js';

export function instanceDirOf(workdir: string, service: string, instance: string): string {
  return join(workdir, 'var', 'run', 'baetyl', 'services', service, instance);
}

export function prepareInstanceDir(workdir: string, service: ServiceSpec, instance: string, socketPath?: string): string {
  const dir = instanceDirOf(workdir, service.name, instance);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const m of service.mounts) {
    const source = resolve(workdir, m.source);
    mkdirSync(source, { recursive: true });
    const target = join(dir, m.target);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(source, target);
  }
  if (socketPath) {
    const link = join(dir, 'var', 'run', 'baetyl.sock');
    mkdirSync(dirname(link), { recursive: true });
    rmSync(link, { force: true });
    symlinkSync(resolve(workdir, socketPath), link);
  }
  return dir;
}

export function removeInstanceDir(workdir: string, service: string, instance: string): void {
  rmSync(instanceDirOf(workdir, service, instance), { recursive: true, force: true });
}
