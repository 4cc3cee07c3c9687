// How a docker instance is kept in application.stats: its container. The key and its fields are
// the ones every earlier master wrote, so a master upgraded after a crash still finds leftovers.
import type { InstanceDescription, InstanceRecord } from '../engine.js';

export type ContainerRecord = {
  container: { id: string; name: string };
};

export function describeContainer(name: string, id: string): InstanceDescription {
  const record: ContainerRecord = { container: { id, name } };
  return { record, inspect: { container: { id, name } }, logFields: { cid: id.slice(0, 12) } };
}

/** The container id of a record, if a docker master wrote it. */
export function containerIdOf(record: InstanceRecord): string | undefined {
  const c = record.container as Partial<ContainerRecord['container']> | undefined;
  return c && typeof c === 'object' && typeof c.id === 'string' && c.id ? c.id : undefined;
}
