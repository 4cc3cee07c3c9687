// How a native instance is kept in application.stats: its process group, and its leader's start
// time (so a later master never takes a reused pid for it). The key and its fields are the ones
// every earlier master wrote, so a master upgraded after a crash still finds the leftovers.
import type { InstanceDescription, InstanceRecord } from '../engine.js';

export type ProcessRecord = {
  process: { id: number; name: string; pgid: number; start_ticks: number };
};

export function describeProcess(name: string, pgid: number, startTicks: number): InstanceDescription {
  const record: ProcessRecord = { process: { id: pgid, name, pgid, start_ticks: startTicks } };
  return { record, inspect: { process: { id: pgid, name } }, logFields: { pid: pgid } };
}

/** The process group of a record, if a native master wrote it. */
export function processOf(record: InstanceRecord): ProcessRecord['process'] | undefined {
  const p = record.process as Partial<ProcessRecord['process']> | undefined;
  if (!p || typeof p !== 'object' || typeof p.pgid !== 'number' || typeof p.start_ticks !== 'number') return undefined;
  return p as ProcessRecord['process'];
}
