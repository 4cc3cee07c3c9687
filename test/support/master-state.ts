// The state of a running master, read through its API as `baetyl status` reads it (the CLI's
// client name and token), for tests that wait for a stack to be up or an instance to change.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MasterClient, type Inspect, type InstanceStats } from '@baetyl/core';
import { APP_FILE } from '@baetyl/test-support';

/** The master's inspect, or undefined while it does not answer (not started yet, or stopped). */
export async function inspectOf(workdir: string): Promise<Inspect | undefined> {
  const token = join(workdir, 'var/run/baetyl/cli.token');
  if (!existsSync(token)) return undefined;
  const c = new MasterClient({ address: `unix://${join(workdir, 'var/run/baetyl.sock')}`, username: '@cli', password: readFileSync(token, 'utf8').trim() });
  try {
    return await c.inspect();
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

/** The instances of `service`, as the master's inspect lists them (none while it does not answer). */
export async function instancesOf(workdir: string, service: string): Promise<InstanceStats[]> {
  return (await inspectOf(workdir))?.services.find((s) => s.name === service)?.instances ?? [];
}

/**
 * Whether every service of the workdir's application.yml runs its `replica` instances (the
 * state the master logs as "services started"); services of replica 0 are started on demand.
 */
export async function appRunning(workdir: string): Promise<boolean> {
  const inspect = await inspectOf(workdir);
  if (!inspect) return false;
  const app = parse(readFileSync(join(workdir, APP_FILE), 'utf8')) as { services: Array<{ name: string; replica?: number }> };
  return app.services.every((s) => {
    const running = inspect.services.find((x) => x.name === s.name)?.instances.filter((i) => i.status === 'running').length ?? 0;
    return running >= (s.replica ?? 0);
  });
}
