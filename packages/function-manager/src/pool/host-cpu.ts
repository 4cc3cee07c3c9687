// How busy the host's CPUs are, from /proc/stat (Linux; a container reads the host's figures, as
// /proc/stat is not namespaced). The pool asks it whether a fast function's batch may spread on
// more instances: when the batch is full and the CPUs are idle, the function waits on something
// other than CPU (a short sleep, a local socket), and more instances do help.
import { readFileSync } from 'node:fs';

export interface CpuSample {
  /** The idle share of all the CPUs (0..1) since the previous sample. */
  idle: number;
  /** When the previous sample was taken (the `now` it was given): the start of this one's interval. */
  since: number;
}

export class HostCpu {
  private last: { idle: number; total: number } | undefined;
  private lastAt = -Infinity;
  private broken = false;

  constructor(
    /** At most one sample per this many ms. */
    private readonly everyMs = 250,
    private readonly read: () => string = () => readFileSync('/proc/stat', 'latin1'),
  ) {}

  /**
   * A new sample, if `everyMs` have passed since the last one; undefined otherwise, and always
   * where /proc/stat cannot be read. The first call only sets the start.
   */
  sample(now: number): CpuSample | undefined {
    if (this.broken || now - this.lastAt < this.everyMs) return undefined;
    const since = this.lastAt;
    this.lastAt = now;
    let fields: number[];
    try {
      const line = this.read().split('\n', 1)[0]!;
      fields = line.trim().split(/\s+/).slice(1).map(Number);
      if (!line.startsWith('cpu ') || fields.length < 4 || fields.some((n) => !Number.isFinite(n))) throw new Error(`unexpected line: ${line}`);
    } catch {
      this.broken = true;
      return undefined;
    }
    // user nice system idle iowait irq softirq steal (guest time is counted in user already).
    const idle = fields[3]! + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const prev = this.last;
    this.last = { idle, total };
    if (!prev || total <= prev.total) return undefined;
    return { idle: (idle - prev.idle) / (total - prev.total), since };
  }

  /** False where /proc/stat cannot be read (then the pool spreads as if the CPUs were idle). */
  get readable(): boolean {
    return !this.broken;
  }
}
