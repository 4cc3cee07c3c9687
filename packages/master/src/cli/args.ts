// Command-line parsing for `baetyl <command> [-w workdir] [-c conf]`, cobra-style flags.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface CliArgs {
  command: string;
  workdir: string;
  config?: string;
  /** `update`'s FILE operand. */
  file?: string;
  /** `logs`' SERVICE or INSTANCE operand (none: the master's own log). */
  name?: string;
  /** `logs -f`: keep printing what is written. */
  follow: boolean;
  /** `logs -n N`: the last N lines of each instance (`all`: every line). */
  lines: number;
  /** `status --json`. */
  json: boolean;
  help: boolean;
}

/** `baetyl logs` prints this many lines of each instance unless -n says otherwise (as tail does). */
export const DEFAULT_LOG_LINES = 10;

export class UsageError extends Error {}

export const USAGE = `baetyl: the edge computing framework's master (Baetyl v1 compatible)

Usage:
  baetyl start   [-w workdir] [-c conf]   run the services of the workdir's application.yml
  baetyl check   [-w workdir] [-c conf]   check conf.yml and application.yml without starting anything
  baetyl stop    [-w workdir] [-c conf]   stop the master running on that workdir
  baetyl status  [-w workdir] [-c conf] [--json]
                                          show what the running master runs (--json: as JSON)
  baetyl logs    [-w workdir] [-c conf] [-f] [-n N] [SERVICE|INSTANCE]
                                          print the master's log, or a service's or an instance's
                                          (each line prefixed with its instance): the last N lines
                                          (default ${DEFAULT_LOG_LINES}, "all" for every line); -f keeps following,
                                          across restarts, rotations and new instances
  baetyl update  [-w workdir] [-c conf] [FILE]
                                          apply the workdir's edited application.yml (or FILE, an
                                          application.yml or a directory holding one) to the
                                          running master: unchanged services keep running
  baetyl version                          print the version

Flags:
  -w, --workdir   the workdir (default: $BAETYL_WORKDIR, else the parent of the directory holding
                  the baetyl executable if it holds etc/baetyl, else the current directory)
  -c, --config    conf.yml, relative to the workdir (default etc/baetyl/conf.yml)
  -f, --follow    logs: keep printing new lines until interrupted
  -n, --lines     logs: how many of the last lines to print (a number, or all)
      --json      status: print JSON instead of the table
  -h, --help      show this help
`;

function defaultWorkdir(): string {
  if (process.env.BAETYL_WORKDIR) return resolve(process.env.BAETYL_WORKDIR);
  // Baetyl v1: /usr/local/bin/baetyl -> /usr/local.
  const exe = process.argv[1];
  if (exe && basename(dirname(exe)) === 'bin') {
    const parent = dirname(dirname(exe));
    if (existsSync(join(parent, 'etc', 'baetyl')) || existsSync(join(parent, 'var', 'db', 'baetyl'))) return parent;
  }
  return process.cwd();
}

export function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = { command: '', workdir: '', follow: false, lines: DEFAULT_LOG_LINES, json: false, help: false };
  let logFlag = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (flag: string) => {
      const eq = a.indexOf('=');
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError(`flag ${flag} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') out.help = true;
    else if (a === '-w' || a.startsWith('--workdir')) out.workdir = value('-w/--workdir');
    else if (a === '-c' || a.startsWith('--config')) out.config = value('-c/--config');
    else if (a === '-f' || a === '--follow') [out.follow, logFlag] = [true, a];
    else if (a === '-n' || a.startsWith('--lines') || a.startsWith('--tail')) [out.lines, logFlag] = [lineCount(value('-n/--lines')), a];
    else if (/^-n\d+$/.test(a)) [out.lines, logFlag] = [lineCount(a.slice(2)), a];
    else if (a === '--json') out.json = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown flag ${a}`);
    else if (!out.command) out.command = a;
    else if (out.command === 'update' && out.file === undefined) out.file = resolve(a);
    else if (out.command === 'logs' && out.name === undefined) out.name = a;
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (logFlag && out.command !== 'logs') throw new UsageError(`${logFlag} is a flag of "baetyl logs", not of "baetyl ${out.command}"`);
  if (out.json && out.command !== 'status') throw new UsageError(`--json is a flag of "baetyl status", not of "baetyl ${out.command}"`);
  out.workdir = out.workdir ? resolve(out.workdir) : defaultWorkdir();
  return out;
}

function lineCount(v: string): number {
  if (v === 'all') return Infinity;
  if (!/^\d+$/.test(v)) throw new UsageError(`-n needs a number of lines (or all), not "${v}"`);
  return Number(v);
}
