// The level each line of an instance's output was written at, so the master copies a dead
// instance's last lines into baetyl.log at their own level rather than all as errors.
// Understood: logrus/our text form (`level=debug`) and JSON lines (`"level":"debug"`).
import type { LogLevel } from '@baetyl/core/log';

const TEXT = /(?:^|\s)level=("?)([A-Za-z]+)\1(?=\s|$)/;

const LEVELS: Record<string, LogLevel> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
  panic: 'error',
};

/** The level a line carries, if it names one we know. */
export function lineLevel(line: string): LogLevel | undefined {
  const text = line.trim();
  let named: unknown;
  if (text.startsWith('{')) {
    try {
      named = (JSON.parse(text) as { level?: unknown }).level;
    } catch {
      // Not JSON after all: try the text form.
    }
  }
  if (typeof named !== 'string') named = TEXT.exec(text)?.[2];
  return typeof named === 'string' ? LEVELS[named.toLowerCase()] : undefined;
}

/**
 * One level per line: the line's own, or for a line that names none (a stack trace, a
 * continuation) the level of the line before it; `initial` until a line names one.
 */
export function outputLevels(lines: string[], initial: LogLevel): LogLevel[] {
  let current = initial;
  return lines.map((l) => (current = lineLevel(l) ?? current));
}
