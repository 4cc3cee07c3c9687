// ota.log: the update's progress, one line per step, for Baetyl v1's agent to read and report.
// The agent parses each line as JSON and reads `time`, `step`, `trace` and `error` (logrus'
// JSON keys); lines also carry `type`, `level` and `msg`. As in v1 the log is written when the
// update names a file (an OTA) or when ota.log already exists (an agent is waiting on it).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { closeLogger, createLogger, type Logger, type LoggerConfig } from '@baetyl/core/log';

export type OtaStep = 'UPDATING' | 'UPDATED' | 'ROLLINGBACK' | 'ROLLEDBACK' | 'FAILURE';

export class OtaLog {
  private constructor(
    private readonly log: Logger | undefined,
    private readonly json: boolean,
  ) {}

  static open(cfg: LoggerConfig, workdir: string, fields: { type: 'APP' | 'MST'; trace: string }, isOta: boolean): OtaLog {
    if (!cfg.path) return new OtaLog(undefined, false);
    const file = resolve(workdir, cfg.path);
    if (!isOta && !existsSync(file)) return new OtaLog(undefined, false);
    return new OtaLog(createLogger(cfg, fields, { cwd: workdir, stderr: false }), cfg.format !== 'text');
  }

  /** The file it writes, if any. */
  get active(): boolean {
    return this.log !== undefined;
  }

  step(step: OtaStep, msg: string, error?: string): void {
    if (!this.log) return;
    // winston names them `message` and `timestamp`; the agent reads logrus' `msg` and `time`.
    const extra = this.json ? { msg, time: new Date().toISOString() } : {};
    if (error === undefined) this.log.info(msg, { step, ...extra });
    else this.log.error(msg, { step, error, ...extra });
  }

  async close(): Promise<void> {
    if (this.log) await closeLogger(this.log);
  }
}
