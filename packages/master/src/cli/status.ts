// `baetyl status`: a table of services and instances from the running master's inspect.
import type { Inspect } from '@baetyl/core/api';
import { formatDuration } from '@baetyl/core/config';

function since(iso?: string): string {
  if (!iso) return '-';
  const ms = Date.now() - Date.parse(iso);
  return formatDuration(Math.max(0, Math.round(ms / 1000) * 1000));
}

function until(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  return formatDuration(Math.max(0, Math.ceil(ms / 1000) * 1000));
}

function mib(bytes?: number): string {
  return bytes === undefined ? '-' : `${(bytes / 1024 / 1024).toFixed(1)}M`;
}

export function renderStatus(inspect: Inspect): string {
  const sw = inspect.software as Record<string, string>;
  const head = `baetyl ${sw.bin_version ?? ''}  mode ${sw.mode}  pid ${sw.pid ?? '-'}  up ${since(sw.start_time)}  app ${sw.conf_version || '-'}  workdir ${sw.pwd}`;
  const notes: string[] = [];
  const rows: string[][] = [['SERVICE', 'INSTANCE', 'STATE', 'PID/CONTAINER', 'UPTIME', 'RESTARTS', 'CPU', 'MEM']];
  for (const svc of inspect.services) {
    if (svc.instances.length === 0) {
      rows.push([svc.name, '-', 'no instance', '-', '-', '-', '-', '-']);
      continue;
    }
    for (const inst of svc.instances) {
      const cpu = (inst.cpu_stats as { used_percent?: number } | undefined)?.used_percent;
      const mem = (inst.mem_stats as { used?: number } | undefined)?.used;
      rows.push([
        svc.name,
        inst.name,
        inst.status,
        inst.process ? String(inst.process.id) : inst.container ? inst.container.id.slice(0, 12) : '-',
        inst.status === 'running' ? since(inst.start_time) : '-',
        String(inst.restarts ?? 0),
        cpu === undefined ? '-' : `${cpu}%`,
        mib(mem),
      ]);
      // Why an instance does not run, and when it is tried again.
      if (inst.error) {
        const next = inst.next_start ? `; next start in ${until(inst.next_start)}` : '';
        notes.push(`${inst.name}: ${inst.status}: ${inst.error}${next}`);
      }
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const table = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  return [head, '', ...table, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** One instance as `baetyl status --json` prints it: the table's columns, with numbers as numbers. */
export interface StatusInstance {
  name: string;
  state: string;
  pid: number | null;
  container: { id: string; name: string } | null;
  start_time: string | null;
  /** Seconds since it started, while it runs. */
  uptime_s: number | null;
  restarts: number;
  cpu_percent: number | null;
  mem_bytes: number | null;
  /** Why it does not run, and when it is started again (the notes under the table). */
  error: string | null;
  next_start: string | null;
}

export interface StatusJson {
  baetyl: { version: string; mode: string; pid: number | null; start_time: string | null; uptime_s: number | null; app_version: string; workdir: string };
  services: Array<{ name: string; instances: StatusInstance[] }>;
}

function secondsSince(iso?: string): number | null {
  return iso ? Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)) : null;
}

/** `baetyl status --json`: the data of the table and its notes. */
export function statusJson(inspect: Inspect): StatusJson {
  const sw = inspect.software as Record<string, string>;
  return {
    baetyl: {
      version: sw.bin_version ?? '',
      mode: sw.mode ?? '',
      pid: sw.pid ? Number(sw.pid) : null,
      start_time: sw.start_time ?? null,
      uptime_s: secondsSince(sw.start_time),
      app_version: sw.conf_version ?? '',
      workdir: sw.pwd ?? '',
    },
    services: inspect.services.map((svc) => ({
      name: svc.name,
      instances: svc.instances.map((inst) => ({
        name: inst.name,
        state: inst.status,
        pid: inst.process ? inst.process.id : null,
        container: inst.container ? { id: inst.container.id, name: inst.container.name } : null,
        start_time: inst.start_time ?? null,
        uptime_s: inst.status === 'running' ? secondsSince(inst.start_time) : null,
        restarts: inst.restarts ?? 0,
        cpu_percent: (inst.cpu_stats as { used_percent?: number } | undefined)?.used_percent ?? null,
        mem_bytes: (inst.mem_stats as { used?: number } | undefined)?.used ?? null,
        error: inst.error ?? null,
        next_start: inst.next_start ?? null,
      })),
    })),
  };
}
