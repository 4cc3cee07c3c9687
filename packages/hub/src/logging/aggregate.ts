// Folds repeated log lines into one. The first occurrence of a line (same level, message and
// fields, e.g. `client closed: drain timeout` for one client) waits `windowMs`; occurrences in
// that window are counted, and one line goes out with `count=N` when there was more than one.
// aedes reports the end of a connection once per write that was pending, so one closed client
// could otherwise write thousands of identical lines.
import type { Logger } from '@baetyl/core/log';

type Level = 'debug' | 'info' | 'warn' | 'error';

interface Pending {
  level: Level;
  message: string;
  fields: Record<string, unknown>;
  count: number;
}

export class LogAggregator {
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 1000,
  ) {}

  /**
   * `key` folds lines that differ only in their message into the first one (default: the level,
   * message and fields).
   */
  log(level: Level, message: string, fields: Record<string, unknown> = {}, key = `${level}\u0000${message}\u0000${JSON.stringify(fields)}`): void {
    const seen = this.pending.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    this.pending.set(key, { level, message, fields, count: 1 });
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
    }
  }

  /** Writes every pending line now (also on stop). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lines = [...this.pending.values()];
    this.pending.clear();
    for (const p of lines) this.logger.log(p.level, p.message, p.count > 1 ? { ...p.fields, count: p.count } : p.fields);
  }
}
