// Logging through winston, in Baetyl's logrus text form (`time=… level=info msg="…" k=v`) or JSON,
// to a file (with size-based rotation, and backups removed after age.max days) and to stderr.
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import winston from 'winston';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LoggerConfig {
  path?: string;
  level?: LogLevel;
  format?: 'text' | 'json';
  /** Accepted (newer Baetyl configs write it); `format` says text or JSON here. */
  encoding?: string;
  age?: { max?: number };
  size?: { max?: number };
  backup?: { max?: number };
  backupCount?: { max?: number };
}

export type Logger = winston.Logger;

import { loggerConfigWarnings } from './schema.js';

export { loggerConfigWarnings, loggerSchema } from './schema.js';

const SAFE = /^[A-Za-z0-9\-._/@^+:]+$/;

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : v instanceof Error ? v.message : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s !== '' && SAFE.test(s) ? s : JSON.stringify(s);
}

/** logrus' text form: fixed keys first, extra fields sorted. */
export const baetylText = winston.format.printf((info) => {
  const { level, message, timestamp, ...fields } = info as Record<string, unknown> & { level: string; message: unknown };
  let line = `time=${quote(timestamp ?? new Date().toISOString())} level=${level} msg=${quote(message)}`;
  for (const key of Object.keys(fields).sort()) {
    if (typeof key !== 'string' || fields[key] === undefined) continue;
    line += ` ${key}=${quote(fields[key])}`;
  }
  return line;
});

function normalLevel(level?: string): LogLevel {
  if (level === 'warning') return 'warn';
  if (level === 'fatal' || level === 'panic') return 'error';
  return (level as LogLevel | undefined) ?? 'info';
}

export interface CreateLoggerOptions {
  /** Also write to stderr (default true). */
  stderr?: boolean;
  /** Resolve a relative `path` against this directory. */
  cwd?: string;
}

const DAY = 24 * 3600 * 1000;

/**
 * Removes the backups of `file` (service1.log, service2.log.gz, ...; never the file itself) last
 * written more than `days` days ago: logger.age.max, as Baetyl v1's rotation did. Returns them.
 */
export function pruneOldBackups(file: string, days: number, now = Date.now()): string[] {
  const ext = extname(file);
  const stem = basename(file, ext);
  const backup = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\d+${ext.replace('.', '\\.')}(\\.gz)?$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!backup.test(name)) continue;
    const path = join(dirname(file), name);
    try {
      if (now - statSync(path).mtimeMs > days * DAY) {
        unlinkSync(path);
        removed.push(path);
      }
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** A logger writing to `cfg.path` (if set) and stderr, with `fields` on every line. */
export function createLogger(cfg: LoggerConfig, fields: Record<string, string> = {}, opts: CreateLoggerOptions = {}): Logger {
  const format =
    cfg.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(winston.format.timestamp(), baetylText);
  const transports: winston.transport[] = [];
  if (cfg.path) {
    const file = opts.cwd && !cfg.path.startsWith('/') ? `${opts.cwd}/${cfg.path}` : cfg.path;
    mkdirSync(dirname(file), { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: file,
        maxsize: (cfg.size?.max ?? 50) * 1024 * 1024,
        maxFiles: cfg.backup?.max ?? cfg.backupCount?.max ?? 15,
        tailable: true,
        zippedArchive: true,
      }),
    );
    const days = cfg.age?.max ?? 15;
    pruneOldBackups(file, days);
    // Backups age while the service runs: checked again every hour.
    setInterval(() => pruneOldBackups(file, days), 3600 * 1000).unref();
  }
  if (opts.stderr !== false) {
    transports.push(new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }));
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  const logger = skipDisabledLevels(winston.createLogger({ level: normalLevel(cfg.level), format, defaultMeta: fields, transports }));
  for (const w of loggerConfigWarnings(cfg)) logger.warn(w);
  return logger;
}

/**
 * winston formats every line before its transports drop the ones below their level, so a
 * `debug` call on a hot path costs a timestamp, the text formatting and two stream hops even at
 * `info`. The level methods return at once instead. Children made with `child()` inherit them.
 */
function skipDisabledLevels(logger: Logger): Logger {
  const methods = logger as unknown as Record<string, (...args: unknown[]) => Logger>;
  for (const level of Object.keys(logger.levels)) {
    const write = methods[level];
    if (typeof write !== 'function') continue;
    methods[level] = function (this: Logger, ...args: unknown[]): Logger {
      return this.isLevelEnabled(level) ? write.apply(this, args) : this;
    };
  }
  return logger;
}

/** Waits until every file transport has written what it was given. */
export async function closeLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    logger.on('finish', () => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
}
