// The inspect document of Baetyl's API (§1.10): the software and the host, then every service's
// instances with their status, their engine's description, cpu and memory, and what they reported.
import { arch, cpus, freemem, hostname, loadavg, platform, totalmem, uptime } from 'node:os';
import { VERSION } from '../version.js';
import type { ServiceState } from './services.js';

export interface InspectSource {
  workdir: string;
  /** The engine's mode. */
  mode: string;
  appVersion: string;
  startedAt: Date;
  /** Why the last update failed, if it did. */
  updateError: string | undefined;
  services: Iterable<ServiceState>;
}

export async function inspectDocument(src: InspectSource): Promise<Record<string, unknown>> {
  const services = [];
  for (const state of src.services) {
    const instances = [];
    for (const [iname, sup] of state.instances) {
      const usage = await sup.running?.usage();
      instances.push({
        name: iname,
        status: sup.status,
        ...(sup.startedAt ? { start_time: sup.startedAt.toISOString() } : {}),
        restarts: sup.restarts,
        ...(sup.running?.description.inspect ?? {}),
        ...(usage ? { cpu_stats: usage.cpu, mem_stats: usage.mem } : {}),
        ...(sup.lastError && sup.status !== 'running' ? { error: sup.lastError } : {}),
        ...(sup.nextStartAt ? { next_start: sup.nextStartAt.toISOString() } : {}),
        ...(state.reports.get(iname) ?? {}),
      });
    }
    services.push({ name: state.spec.name, instances });
  }
  const now = new Date().toISOString();
  return {
    ...(src.updateError ? { error: src.updateError } : {}),
    time: now,
    software: {
      os: platform(),
      arch: arch(),
      pwd: src.workdir,
      mode: src.mode,
      node_version: process.version,
      bin_version: VERSION,
      git_revision: '',
      conf_version: src.appVersion,
      start_time: src.startedAt.toISOString(),
      pid: String(process.pid),
    },
    hardware: {
      host_stats: { hostname: hostname(), uptime: uptime(), os: platform(), arch: arch() },
      mem_stats: {
        time: now,
        total: totalmem(),
        free: freemem(),
        used: totalmem() - freemem(),
        used_percent: Number((((totalmem() - freemem()) / totalmem()) * 100).toFixed(2)),
      },
      cpu_stats: { time: now, cores: cpus().length, load: loadavg() },
    },
    services,
  };
}
