// What one instance's container is made of: Baetyl v1's mapping of a service (§1.6) onto
// Docker's create options. A pure function, so it is easy to read and to test.
import { mkdirSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import type { ContainerCreateOptions, HostConfig } from 'dockerode';
import type { InstanceRequest } from '../engine.js';
import { instanceLabels } from './labels.js';
import { parseDevices, parsePorts } from './ports.js';

/** Where every container finds the master API socket (BAETYL_MASTER_API_ADDRESS says so). */
export const CONTAINER_SOCKET = '/var/run/baetyl.sock';
/** Where a container finds the files of InstanceRequest.files (the master API's TLS files). */
export const CONTAINER_FILES = '/run/baetyl-master-api';
/** The user network every service joins unless it says otherwise; names resolve on it. */
export const NETWORK = 'baetyl';

export interface ContainerContext {
  workdir: string;
  /** The image to run (the service's image, or the local image it resolved to). */
  image: string;
  /** The master API socket on the host (unix addresses). */
  socketPath?: string;
  /** The master API listens on tcp: containers reach the host as host.docker.internal. */
  tcpApi?: boolean;
  /** The kernel lacks CFS quotas, so cpus cannot be limited. */
  noCpuQuota?: boolean;
}

/** The host directory a mount binds: under the workdir unless absolute (created when missing). */
export function bindSource(workdir: string, source: string): string {
  return resolve(workdir, source);
}

export interface ContainerPlan {
  options: ContainerCreateOptions;
  /** Networks joined after create (Docker creates a container on one network only). */
  moreNetworks: Array<{ name: string; aliases?: string[]; ipv4?: string }>;
}

export function createOptions(req: InstanceRequest, ctx: ContainerContext): ContainerPlan {
  const s = req.service;
  const binds = s.mounts.map((m) => {
    const source = bindSource(ctx.workdir, m.source);
    // Docker would create a missing source as root-owned; make it ourselves, as native does.
    mkdirSync(source, { recursive: true });
    return `${source}:${posix.join('/', m.target)}:${m.readonly ? 'ro' : 'rw'}`;
  });
  if (ctx.socketPath) binds.push(`${ctx.socketPath}:${CONTAINER_SOCKET}:ro`);
  const env = { ...req.env };
  for (const f of req.files ?? []) {
    const inside = posix.join(CONTAINER_FILES, f.env.toLowerCase());
    binds.push(`${f.hostPath}:${inside}:ro`);
    env[f.env] = inside;
  }
  const ports = parsePorts(s.ports);
  const host: HostConfig = {
    Binds: binds,
    // The supervisor restarts instances by the service's policy; Docker must not.
    RestartPolicy: { Name: 'no' },
    // tini as PID 1: signals reach the service, and the workers it spawns are reaped.
    Init: true,
    PortBindings: ports.bindings,
    Devices: parseDevices(s.devices),
  };
  if (ctx.tcpApi) host.ExtraHosts = ['host.docker.internal:host-gateway'];
  const cpu = s.resources.cpu;
  if (cpu?.cpus && !ctx.noCpuQuota) host.NanoCpus = Math.round(cpu.cpus * 1e9);
  if (cpu?.setcpus) host.CpusetCpus = cpu.setcpus;
  if (s.resources.memory?.limit) host.Memory = s.resources.memory.limit;
  if (s.resources.memory?.swap) host.MemorySwap = s.resources.memory.swap;
  if (s.resources.pids?.limit) host.PidsLimit = s.resources.pids.limit;
  if (s.runtime) host.Runtime = s.runtime;

  const opts: ContainerCreateOptions = {
    name: req.instance,
    Image: ctx.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: instanceLabels(ctx.workdir, s.name, req.instance),
    ExposedPorts: ports.exposed,
    HostConfig: host,
  };
  if (s.args.length) opts.Cmd = s.args;
  if (s.entrypoint.length) opts.Entrypoint = s.entrypoint;
  if (s.hostname) opts.Hostname = s.hostname;

  const moreNetworks: ContainerPlan['moreNetworks'] = [];
  if (s.network_mode) {
    host.NetworkMode = s.network_mode;
  } else if (s.networks && Object.keys(s.networks).length) {
    const [first, ...rest] = Object.entries(s.networks);
    host.NetworkMode = first![0];
    const cfg = first![1];
    opts.NetworkingConfig = {
      EndpointsConfig: {
        [first![0]]: {
          ...(cfg.aliases?.length ? { Aliases: cfg.aliases } : {}),
          ...(cfg.ipv4_address ? { IPAMConfig: { IPv4Address: cfg.ipv4_address } } : {}),
        },
      },
    };
    for (const [name, c] of rest)
      moreNetworks.push({ name, ...(c.aliases?.length ? { aliases: c.aliases } : {}), ...(c.ipv4_address ? { ipv4: c.ipv4_address } : {}) });
  } else {
    host.NetworkMode = NETWORK;
  }
  return { options: opts, moreNetworks };
}
