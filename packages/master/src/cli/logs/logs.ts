// `baetyl logs [-f] [-n N] [SERVICE|INSTANCE]`: with no name the master's log; with a service's
// name every instance's lines, each prefixed with its instance; with an instance's name its lines
// only. Native mode reads the files the workdir's config names (locations.ts); docker mode reads
// the containers' output. Needs no running master.
import type Docker from 'dockerode';
import { LABEL } from '../../engine/docker/labels.js';
import type { ServiceSpec } from '../../app/model.js';
import type { LoadedConfig } from '../../workdir/load.js';
import type { CliArgs } from '../args.js';
import { containerLogs, listWorkdirContainers, workdirContainers } from './docker.js';
import { render, type LabelledLine } from './line-fields.js';
import { instanceDirs, recordedInstances, staticInstances } from './locations.js';
import { masterLogs, serviceLogs, type LogsRequest } from './native.js';

/** A name that is neither a service nor an instance: the error lists the names there are. */
export class UnknownLogName extends Error {}

function unknown(loaded: LoadedConfig, name: string, instances: string[]): UnknownLogName {
  const services = loaded.app.services.map((s) => s.name);
  const others = [...new Set(instances)].filter((i) => !services.includes(i)).sort();
  return new UnknownLogName(
    `no service or instance named "${name}" in ${loaded.appFile}: services: ${services.join(', ') || '(none)'}${others.length ? `; instances: ${others.join(', ')}` : ''}` +
      '; or leave the name out for the master\'s own log',
  );
}

function writer(out: NodeJS.WritableStream): (lines: LabelledLine[]) => void {
  return (lines) => {
    if (lines.length) out.write(`${lines.map(render).join('\n')}\n`);
  };
}

/** Which service an instance name belongs to, by the instances known in native mode. */
function nativeInstanceOwner(loaded: LoadedConfig, name: string): ServiceSpec | undefined {
  const recorded = recordedInstances(loaded.workdir);
  return loaded.app.services.find((s) => staticInstances(s).includes(name) || instanceDirs(loaded.workdir, s.name).includes(name) || (recorded.get(s.name) ?? []).includes(name));
}

function nativeInstances(loaded: LoadedConfig): string[] {
  const recorded = recordedInstances(loaded.workdir);
  return loaded.app.services.flatMap((s) => [...staticInstances(s), ...instanceDirs(loaded.workdir, s.name), ...(recorded.get(s.name) ?? [])]);
}

export async function logs(args: CliArgs, loaded: LoadedConfig, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const req: LogsRequest = { lines: args.lines, follow: args.follow, write: writer(out) };
  const name = args.name;
  if (name === undefined) return masterLogs(loaded, req);
  const service = loaded.app.services.find((s) => s.name === name);
  if (loaded.conf.mode === 'docker') {
    const { docker, containers } = await workdirContainers(loaded);
    const byInstance = containers.filter((c) => c.Labels[LABEL.instance] === name);
    if (!service && byInstance.length === 0) {
      const known = loaded.app.services.flatMap(staticInstances);
      throw unknown(loaded, name, [...known, ...containers.map((c) => c.Labels[LABEL.instance] ?? '')].filter(Boolean));
    }
    const chosen = service ? (c: Docker.ContainerInfo) => c.Labels[LABEL.service] === name : (c: Docker.ContainerInfo) => c.Labels[LABEL.instance] === name;
    if (!args.follow && !containers.some(chosen)) {
      process.stderr.write(`baetyl: ${service ? `service ${name}` : `instance ${name}`} has no container now (a container is removed when its instance exits; the master's log keeps the last lines of one that failed: baetyl logs)\n`);
      return;
    }
    return containerLogs(docker, chosen, containers, () => listWorkdirContainers(docker, loaded.workdir), req);
  }
  if (service) return serviceLogs(loaded, service, undefined, req);
  const owner = nativeInstanceOwner(loaded, name);
  if (!owner) throw unknown(loaded, name, nativeInstances(loaded));
  return serviceLogs(loaded, owner, name, req);
}
