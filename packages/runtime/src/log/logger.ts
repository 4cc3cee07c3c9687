// What the runtime host logs through, and the light logger it uses when its lines only go to
// stderr in Baetyl's text form (the usual function instance: no logger.path). That logger writes
// the same bytes as @baetyl/core/log's winston logger (logrus' `time=… level=… msg=… k=v`), without
// loading winston, its formats and its streams: a few MB and several ms of every cold start.
// With a log file (rotation, backups) or the JSON form, the host loads core's winston logger.
import { loggerConfigWarnings } from '@baetyl/core/log/schema';
import type { LoggerConfig, LogLevel } from '@baetyl/core/log/logger';

export type LogFields = Record<string, unknown>;

/** The part of a logger the host uses; core's winston logger has it too. */
export interface RuntimeLogger {
  debug(msg: string, fields?: LogFields): unknown;
  info(msg: string, fields?: LogFields): unknown;
  warn(msg: string, fields?: LogFields): unknown;
  error(msg: string, fields?: LogFields): unknown;
  log(level: LogLevel, msg: string, fields?: LogFields): unknown;
  isDebugEnabled(): boolean;
}

/** winston's npm levels, the ones the host uses. */
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 5 };

/** The same value form as core's baetylText: bare when safe, else JSON-quoted. */
const SAFE = /^[A-Za-z0-9\-._/@^+:]+$/;
function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Error ? v.message : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s !== '' && SAFE.test(s) ? s : JSON.stringify(s);
}

/** A config level as core's logger reads it (logrus' names included). */
export function normalLevel(level?: string): LogLevel {
  if (level === 'warning') return 'warn';
  if (level === 'fatal' || level === 'panic') return 'error';
  return (level as LogLevel | undefined) ?? 'info';
}

/** One line in Baetyl's text form: fixed keys first, then the fields sorted by name. */
export function textLine(level: LogLevel, msg: unknown, fields: LogFields | undefined, time: string): string {
  let line = `time=${quote(time)} level=${level} msg=${quote(msg)}`;
  if (fields) {
    for (const key of Object.keys(fields).sort()) {
      // As in core's winston form, these keys are the line's own.
      if (key === 'level' || key === 'message' || key === 'timestamp' || fields[key] === undefined) continue;
      line += ` ${key}=${quote(fields[key])}`;
    }
  }
  return `${line}\n`;
}

/** Text lines at `level` and above, each written at once (stderr is synchronous for files and pipes). */
export function stderrLogger(level: LogLevel, write: (line: string) => void = (l) => void process.stderr.write(l)): RuntimeLogger {
  const max = RANK[level] ?? RANK.info;
  const log = (at: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[at] <= max) write(textLine(at, msg, fields, new Date().toISOString()));
  };
  return {
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    isDebugEnabled: () => max >= RANK.debug,
  };
}

export interface HostLogger {
  logger: RuntimeLogger;
  /** Waits until what was logged is written (a log file's last lines). */
  close(): Promise<void>;
}

/** The host's logger for its `logger:` block: the light one when it can write the same bytes. */
export async function hostLogger(cfg: LoggerConfig, cwd: string): Promise<HostLogger> {
  if (!cfg.path && cfg.format !== 'json') {
    const logger = stderrLogger(normalLevel(cfg.level));
    for (const w of loggerConfigWarnings(cfg)) logger.warn(w);
    return { logger, close: async () => {} };
  }
  const { closeLogger, createLogger } = await import('@baetyl/core/log/logger');
  const logger = createLogger(cfg, {}, { cwd });
  return { logger, close: () => closeLogger(logger) };
}
