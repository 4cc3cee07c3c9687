// Starts and stops function runtime instances through the master API (Baetyl's dynamic instances):
// the instance is told where to listen, and the pool is told where to dial it.
import { lookup } from 'node:dns/promises';
import type { MasterClient } from '@baetyl/core/api';

export interface LaunchedInstance {
  /** Where the pool dials the instance's gRPC server. */
  dialAddress: string;
}

export interface InstanceLauncher {
  start(service: string, instance: string): Promise<LaunchedInstance>;
  stop(service: string, instance: string): Promise<void>;
}

/** In docker mode every runtime container listens on this port; the manager dials it by container name. */
export const DOCKER_RUNTIME_PORT = 50051;

/**
 * grpc-js parses its target as a URL, and a host name whose last label is a number
 * (`function-sql-filter.sql-filter.1`, Baetyl's instance names) is not a valid URL host: the
 * dial fails at once. So the container name is resolved here and the address dialled; if it
 * cannot be resolved, the name is kept and the dial reports the failure.
 */
async function dialByAddress(instance: string, fallback: string): Promise<string> {
  try {
    const { address } = await lookup(instance, { family: 4 });
    return `${address}:${DOCKER_RUNTIME_PORT}`;
  } catch {
    return fallback;
  }
}

export class MasterLauncher implements InstanceLauncher {
  constructor(
    private readonly master: MasterClient,
    private readonly mode: 'native' | 'docker',
  ) {}

  async start(service: string, instance: string): Promise<LaunchedInstance> {
    let listen: string;
    let dialAddress: string;
    if (this.mode === 'docker') {
      listen = `0.0.0.0:${DOCKER_RUNTIME_PORT}`;
      dialAddress = `${instance}:${DOCKER_RUNTIME_PORT}`;
    } else {
      const port = await this.master.availablePort();
      if (!Number.isInteger(port) || port <= 0) throw new Error(`master API gave no usable port (got ${String(port)})`);
      listen = `127.0.0.1:${port}`;
      dialAddress = listen;
    }
    // The three names runtimes of every Baetyl version read (§3.2).
    await this.master.startInstance(service, instance, {
      BAETYL_SERVICE_INSTANCE_ADDRESS: listen,
      OPENEDGE_SERVICE_INSTANCE_ADDRESS: listen,
      OPENEDGE_SERVICE_ADDRESS: listen,
    });
    if (this.mode === 'docker') dialAddress = await dialByAddress(instance, dialAddress);
    return { dialAddress };
  }

  stop(service: string, instance: string): Promise<void> {
    return this.master.stopInstance(service, instance);
  }
}
