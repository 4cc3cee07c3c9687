// Picks the engine conf.yml's `mode` names.
import type { Logger } from '@baetyl/core/log';
import type { MasterConfig } from '../conf/schema.js';
import type { Engine } from './engine.js';
import { NativeEngine } from './native/engine.js';

export interface EngineContext {
  conf: MasterConfig;
  workdir: string;
  /** The master API socket on the host (unix addresses only). */
  socketPath?: string;
  log: Logger;
  /** conf.yml, for messages that say what to change. */
  confFile?: string;
}

export async function createEngine(ctx: EngineContext): Promise<Engine> {
  if (ctx.conf.mode === 'docker') {
    // Loaded only in docker mode: dockerode (with ssh2 and grpc-js under it) is a third of an
    // idle master's memory, and the native engine never uses it.
    const { DockerEngine } = await import('./docker/engine.js');
    return DockerEngine.create({
      workdir: ctx.workdir,
      confFile: ctx.confFile ?? 'conf.yml',
      tcpApi: ctx.conf.server.address.startsWith('tcp://'),
      log: ctx.log,
      ...(ctx.conf.docker.api_version ? { apiVersion: ctx.conf.docker.api_version } : {}),
      ...(ctx.socketPath ? { socketPath: ctx.socketPath } : {}),
    });
  }
  return new NativeEngine({ workdir: ctx.workdir, ...(ctx.socketPath ? { socketPath: ctx.socketPath } : {}) });
}

/** BAETYL_MASTER_API_ADDRESS as an instance of this mode must dial it (Baetyl v1 §1.4). */
export function instanceApiAddress(mode: MasterConfig['mode'], address: string): string {
  const kind = address.startsWith('unix://') ? 'unix' : 'tcp';
  if (kind === 'unix') {
    // Docker: the socket is bind-mounted at /var/run/baetyl.sock; native: linked into the
    // instance's own directory, so a relative path reaches it.
    return mode === 'docker' ? 'unix:///var/run/baetyl.sock' : 'unix://var/run/baetyl.sock';
  }
  if (mode === 'docker') {
    const port = address.split(':').pop();
    return `tcp://host.docker.internal:${port}`;
  }
  return address;
}
