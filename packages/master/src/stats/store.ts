// var/db/baetyl/application.stats: what runs, persisted as YAML `{service: {instance: {...}}}`
// so that a master started after a crash can find and remove leftovers.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'yaml';
import type { InstanceRecord } from '../engine/engine.js';

export type StatsFile = Record<string, Record<string, Record<string, unknown>>>;

/** Every instance's entry (the engines pick theirs: engine.recover()); none when the file is missing or unreadable. */
export function readRecords(file: string): InstanceRecord[] {
  let data: StatsFile | null;
  try {
    data = parse(readFileSync(file, 'utf8')) as StatsFile | null;
  } catch {
    return [];
  }
  const out: InstanceRecord[] = [];
  for (const instances of Object.values(data ?? {})) {
    for (const inst of Object.values(instances ?? {})) {
      if (inst && typeof inst === 'object' && !Array.isArray(inst)) out.push(inst);
    }
  }
  return out;
}

/** Writes the stats file atomically, at most once per `delayMs`. */
export class StatsWriter {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => StatsFile,
    private readonly delayMs = 50,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, stringify(this.snapshot()));
    renameSync(tmp, this.file);
  }
}

/** The instances application.stats records per service (what runs, or ran when the master died). */
export function recordedInstances(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch {
    return out;
  }
  if (!data || typeof data !== 'object') return out;
  for (const [service, instances] of Object.entries(data as Record<string, unknown>)) {
    if (instances && typeof instances === 'object') out.set(service, Object.keys(instances));
  }
  return out;
}
