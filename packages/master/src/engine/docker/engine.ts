// The docker engine: every instance is a container named after it, on the user network
// `baetyl` (so `tcp://localhub:1883` and function instances resolve by name), with its mounts
// bound from the workdir and the master API socket at /var/run/baetyl.sock. Containers carry
// labels naming the workdir, so a master started after a crash removes its predecessor's
// leftovers, and never another workdir's.
import type Docker from 'dockerode';
import type { Logger } from '@baetyl/core/log';
import type { AppSpec } from '../../app/model.js';
import { PermanentStartError, type Engine, type InstanceRecord, type InstanceRequest, type RunningInstance } from '../engine.js';
import { connectDocker, dockerMessage, statusOf, type DockerConnection } from './client.js';
import { configOnHost, dockerPythonEnv, nodeRuntimeEnv } from '../runtime-config.js';
import { nodeRuntimeKindOf, pythonKindOf } from '../native/images.js';
import { retiredImage } from '../retired-images.js';
import { createOptions, NETWORK } from './container.js';
import { ImageError, resolveImage } from './images.js';
import { DockerInstance } from './instance.js';
import { LABEL, workdirFilter } from './labels.js';
import { containerIdOf } from './record.js';

export interface DockerEngineOptions {
  workdir: string;
  /** conf.yml, for messages. */
  confFile: string;
  apiVersion?: string;
  /** The master API socket on the host (unix addresses), bound into every container. */
  socketPath?: string;
  /** The master API is on tcp: containers get host.docker.internal. */
  tcpApi: boolean;
  log: Logger;
}

/** How long a leftover container gets to stop before it is removed by force. */
const LEFTOVER_GRACE_S = 5;

export class DockerEngine implements Engine {
  readonly name = 'docker' as const;
  private readonly images = new Map<string, string>();
  private swept?: Promise<number>;
  private readonly log: Logger;

  private constructor(
    private readonly opts: DockerEngineOptions,
    private readonly conn: DockerConnection,
  ) {
    this.log = opts.log.child({ engine: 'docker' });
  }

  static async create(opts: DockerEngineOptions): Promise<DockerEngine> {
    const conn = await connectDocker(opts.apiVersion, opts.confFile);
    const engine = new DockerEngine(opts, conn);
    opts.log.debug(`docker engine ${conn.serverVersion} at ${conn.endpoint}`);
    if (conn.noCpuQuota) opts.log.warn('this kernel has no CFS quota: resources.cpu.cpus limits are ignored');
    await engine.ensureNetwork(NETWORK, { driver: 'bridge', driver_opts: {}, labels: {} });
    return engine;
  }

  private get docker(): Docker {
    return this.conn.docker;
  }

  private async ensureNetwork(name: string, spec: AppSpec['networks'][string]): Promise<void> {
    const found = await this.docker.listNetworks({ filters: JSON.stringify({ name: [name] }) });
    // The name filter matches substrings; only an exact name counts.
    const same = found.find((n) => n.Name === name);
    if (same) {
      this.log.debug(`network (${same.Id.slice(0, 12)}:${name}) exists`);
      return;
    }
    try {
      const net = await this.docker.createNetwork({
        Name: name,
        Driver: spec.driver || 'bridge',
        Options: spec.driver_opts ?? {},
        Labels: { ...(spec.labels ?? {}), [LABEL.baetyl]: 'baetyl' },
        CheckDuplicate: true,
      });
      this.log.debug(`network (${net.id.slice(0, 12)}:${name}) created`);
    } catch (err) {
      // Another master created it in the meantime.
      if (statusOf(err) === 409) return;
      throw new Error(`cannot create the docker network "${name}": ${dockerMessage(err)}`);
    }
  }

  async prepare(app: AppSpec): Promise<void> {
    const first = !this.swept;
    const removed = await this.sweep([]);
    if (first && removed) this.log.warn(`removed ${removed} container(s) left by a previous master`);
    for (const [name, spec] of Object.entries(app.networks)) await this.ensureNetwork(name, spec);
    // Every image at once, as Baetyl v1 did; a missing one fails only its own service.
    const wanted = [...new Set(app.services.map((s) => s.image))].filter((image) => !retiredImage(image));
    await Promise.all(
      wanted.map(async (image) => {
        try {
          this.images.set(image, await resolveImage(this.docker, image, this.log));
        } catch (err) {
          this.log.error((err as Error).message);
        }
      }),
    );
  }

  private async image(image: string): Promise<string> {
    const known = this.images.get(image);
    if (known) return known;
    try {
      const resolved = await resolveImage(this.docker, image, this.log);
      this.images.set(image, resolved);
      return resolved;
    } catch (err) {
      // Not permanent: the registry may come back, or the image be loaded, before the next start.
      if (err instanceof ImageError) throw new Error(err.message);
      throw new Error(`cannot look up image ${image}: ${dockerMessage(err)}`);
    }
  }

  /** Removes a container of that name left from an earlier run; refuses to touch a stranger's. */
  private async clearName(name: string): Promise<void> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(name).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw err;
    }
    const labels = info.Config.Labels ?? {};
    if (labels[LABEL.baetyl] !== 'baetyl' || labels[LABEL.workdir] !== this.opts.workdir) {
      const owner = labels[LABEL.workdir] ? `the Baetyl master of ${labels[LABEL.workdir]}` : 'something other than Baetyl';
      // Not permanent: once the user removes that container, the next start works.
      throw new Error(
        `a container named "${name}" already exists (${info.Id.slice(0, 12)}, made by ${owner}): remove it with "docker rm -f ${name}", or rename the service`,
      );
    }
    this.log.debug(`removing the leftover container (${info.Id.slice(0, 12)}:${name})`);
    await this.docker
      .getContainer(info.Id)
      .remove({ force: true })
      .catch((err: unknown) => {
        if (statusOf(err) !== 404) throw err;
      });
  }

  async start(req: InstanceRequest): Promise<RunningInstance> {
    const retired = retiredImage(req.service.image);
    if (retired) throw new PermanentStartError(retired);
    await this.sweep([]);
    const python = pythonKindOf(req.service.image);
    if (python) req = { ...req, env: { ...req.env, ...dockerPythonEnv(python, this.opts.workdir, req.service, req.env) } };
    const runtime = nodeRuntimeKindOf(req.service.image);
    if (runtime) req = { ...req, env: { ...req.env, ...nodeRuntimeEnv(runtime, configOnHost(this.opts.workdir, req.service), req.env) } };
    const image = await this.image(req.service.image);
    const plan = createOptions(req, {
      workdir: this.opts.workdir,
      image,
      tcpApi: this.opts.tcpApi,
      noCpuQuota: this.conn.noCpuQuota,
      ...(this.opts.socketPath ? { socketPath: this.opts.socketPath } : {}),
    });
    await this.clearName(req.instance);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(plan.options);
    } catch (err) {
      // Baetyl v1: a create that fails (a name taken in a race) is retried once after a removal.
      if (statusOf(err) !== 409) throw this.startError(req, 'create', err);
      await this.clearName(req.instance);
      try {
        container = await this.docker.createContainer(plan.options);
      } catch (again) {
        throw this.startError(req, 'create', again);
      }
    }
    try {
      for (const n of plan.moreNetworks) {
        await this.docker.getNetwork(n.name).connect({
          Container: container.id,
          EndpointConfig: { ...(n.aliases ? { Aliases: n.aliases } : {}), ...(n.ipv4 ? { IPAMConfig: { IPv4Address: n.ipv4 } } : {}) },
        });
      }
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw this.startError(req, 'start', err);
    }
    this.log.debug(`container (${container.id.slice(0, 12)}:${req.instance}) started`);
    return new DockerInstance(req.instance, container, container.id, () => undefined);
  }

  private startError(req: InstanceRequest, what: string, err: unknown): Error {
    const msg = `cannot ${what} the container of instance ${req.instance} (image ${req.service.image}): ${dockerMessage(err)}`;
    // The engine refusing the configuration (400) will refuse it again.
    return statusOf(err) === 400 ? new PermanentStartError(msg) : new Error(msg);
  }

  /** Removes this workdir's labelled containers and the recorded ones; once per engine. */
  private sweep(records: InstanceRecord[]): Promise<number> {
    this.swept ??= this.removeLeftovers(records);
    return this.swept;
  }

  private async removeLeftovers(records: InstanceRecord[]): Promise<number> {
    const ids = new Set<string>();
    for (const r of records) {
      const id = containerIdOf(r);
      if (id) ids.add(id);
    }
    const listed = await this.docker.listContainers({ all: true, filters: workdirFilter(this.opts.workdir) });
    for (const c of listed) ids.add(c.Id);
    let removed = 0;
    await Promise.all(
      [...ids].map(async (id) => {
        const c = this.docker.getContainer(id);
        try {
          const info = await c.inspect();
          // A recorded id is only ours if it still carries our labels.
          const labels = info.Config.Labels ?? {};
          if (labels[LABEL.baetyl] !== 'baetyl' || labels[LABEL.workdir] !== this.opts.workdir) return;
          if (info.State.Running) await c.stop({ t: LEFTOVER_GRACE_S }).catch(() => undefined);
          await c.remove({ force: true });
          removed++;
          this.log.debug(`leftover container (${id.slice(0, 12)}:${info.Name.replace(/^\//, '')}) removed`);
        } catch (err) {
          if (statusOf(err) !== 404) this.log.warn(`cannot remove the leftover container ${id.slice(0, 12)}: ${dockerMessage(err)}`);
        }
      }),
    );
    return removed;
  }

  async recover(records: InstanceRecord[]): Promise<number> {
    // The first sweep counts: leftovers are reported once, here or in prepare.
    if (this.swept) return 0;
    return this.sweep(records);
  }

  async close(): Promise<void> {
    // Containers are stopped by their supervisors; the network stays for the next start.
  }
}
