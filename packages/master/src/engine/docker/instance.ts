// One running container. Its exit is watched with the engine's wait call; when it exits, what it
// wrote is read back (so the supervisor can put a crash's stderr into the master log) and the
// container is removed, so `docker ps -a` holds only what runs.
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { ExitStatus, InstanceDescription, ResourceTotals, ResourceUsage, RunningInstance } from '../engine.js';
import { statusOf } from './client.js';
import { describeContainer } from './record.js';

const OUTPUT_LINES = 200;

/** Splits the engine's multiplexed log stream (8-byte frame headers) into text lines. */
export function demuxLines(buf: Buffer): string[] {
  const chunks: string[] = [];
  let i = 0;
  // A stream without frame headers (a TTY container) is plain text.
  const framed = buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!framed) chunks.push(buf.toString('utf8'));
  else {
    while (i + 8 <= buf.length) {
      const len = buf.readUInt32BE(i + 4);
      chunks.push(buf.subarray(i + 8, i + 8 + len).toString('utf8'));
      i += 8 + len;
    }
  }
  return chunks
    .join('')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.length > 0);
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

export class DockerInstance implements RunningInstance {
  readonly exited: Promise<ExitStatus>;
  readonly description: InstanceDescription;
  private output: string[] = [];
  private done = false;
  private last?: { cpu: number; system: number };

  constructor(
    readonly name: string,
    private readonly container: Docker.Container,
    id: string,
    onExit: () => void,
  ) {
    this.description = describeContainer(name, id);
    this.exited = this.watch().then((status) => {
      this.done = true;
      onExit();
      return status;
    });
  }

  private async watch(): Promise<ExitStatus> {
    let code: number | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = (await this.container.wait()) as { StatusCode?: number };
        code = res.StatusCode ?? null;
        break;
      } catch (err) {
        // Gone already (removed by someone else): nothing to wait for.
        if (statusOf(err) === 404) break;
        // The engine restarting or a dropped connection: look again, a little later.
        await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5)));
        try {
          const info = await this.container.inspect();
          if (!info.State.Running) {
            code = info.State.ExitCode;
            break;
          }
        } catch (e) {
          if (statusOf(e) === 404) break;
        }
      }
    }
    // The engine can answer the wait before its log holds the container's last lines (seen with
    // a failed exec, code 126): a failed container whose log reads empty is read again a few times.
    for (let tries = 0; ; tries++) {
      try {
        const logs = (await this.container.logs({ stdout: true, stderr: true, follow: false, tail: OUTPUT_LINES })) as unknown as Buffer;
        this.output = demuxLines(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs))).slice(-OUTPUT_LINES);
      } catch {
        // No logs to show: the container is gone.
        break;
      }
      if (this.output.length > 0 || code === 0 || tries >= 5) break;
      await sleep(100);
    }
    await this.container.remove({ force: true }).catch(() => undefined);
    // Docker reports death by signal N as 128+N.
    const signal = code !== null && code > 128 && SIGNALS[code - 128] ? SIGNALS[code - 128]! : null;
    return { code, signal };
  }

  recentOutput(): string[] {
    return [...this.output];
  }

  async stop(graceMs: number): Promise<void> {
    if (this.done) return;
    await this.container.kill({ signal: 'SIGTERM' }).catch(() => undefined);
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) await this.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    await this.exited;
  }

  /** One `docker stats` sample of the container, or undefined once it is gone. */
  private async sample(): Promise<Docker.ContainerStats | undefined> {
    if (this.done) return undefined;
    try {
      return await this.container.stats({ stream: false, 'one-shot': true });
    } catch {
      return undefined;
    }
  }

  async totals(): Promise<ResourceTotals | undefined> {
    const usage = await this.sample();
    if (!usage) return undefined;
    const stats = (usage.memory_stats?.stats ?? {}) as Record<string, number>;
    // total_usage is in nanoseconds; memory as usage() counts it (no page cache), resident as the cgroup sees it.
    return {
      cpuSeconds: (usage.cpu_stats?.cpu_usage?.total_usage ?? 0) / 1e9,
      rssBytes: stats.anon ?? stats.rss ?? stats.total_rss ?? withoutPageCache(usage),
    };
  }

  async usage(): Promise<ResourceUsage | undefined> {
    const usage = await this.sample();
    if (!usage) return undefined;
    const time = new Date().toISOString();
    const cpu = usage.cpu_stats?.cpu_usage?.total_usage ?? 0;
    const system = usage.cpu_stats?.system_cpu_usage ?? 0;
    const cores = usage.cpu_stats?.online_cpus || usage.cpu_stats?.cpu_usage?.percpu_usage?.length || 1;
    let percent = 0;
    if (this.last && system > this.last.system) percent = ((cpu - this.last.cpu) / (system - this.last.system)) * cores * 100;
    this.last = { cpu, system };
    // As `docker stats` shows it: usage without the page cache.
    const used = withoutPageCache(usage);
    const total = usage.memory_stats?.limit ?? 0;
    return {
      cpu: { time, used_percent: Number(percent.toFixed(2)) },
      mem: { time, total, used, used_percent: total ? Number(((used / total) * 100).toFixed(2)) : 0 },
    };
  }
}

/** The container's memory as `docker stats` shows it: the cgroup's usage without the page cache. */
function withoutPageCache(usage: Docker.ContainerStats): number {
  const stats = (usage.memory_stats?.stats ?? {}) as Record<string, number>;
  return Math.max(0, (usage.memory_stats?.usage ?? 0) - (stats.inactive_file ?? stats.total_inactive_file ?? stats.cache ?? 0));
}
