// Command-line parsing for `baetyl <command> [-w workdir] [-c conf]`, cobra-style flags.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface CliArgs {
  command: string;
  workdir: string;
  config?: string;
  /** `update`'s FILE operand. */
  file?: string;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `baetyl: the edge computing framework's master (Baetyl v1 compatible)

Usage:
  baetyl start   [-w workdir] [-c conf]   run the services of the workdir's application.yml
  baetyl check   [-w workdir] [-c conf]   check conf.yml and application.yml without starting anything
  baetyl stop    [-w workdir] [-c conf]   stop the master running on that workdir
  baetyl status  [-w workdir] [-c conf]   show what the running master runs
  baetyl update  [-w workdir] [-c conf] [FILE]
                                          apply the workdir's edited application.yml (or FILE, an
                                          application.yml or a directory holding one) to the
                                          running master: unchanged services keep running
  baetyl version                          print the version

Flags:
  -w, --workdir   the workdir (default: $BAETYL_WORKDIR, else the parent of the directory holding
                  the baetyl executable if it holds etc/baetyl, else the current directory)
  -c, --config    conf.yml, relative to the workdir (default etc/baetyl/conf.yml)
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
  const out: CliArgs = { command: '', workdir: '', help: false };
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
    else if (a.startsWith('-')) throw new UsageError(`unknown flag ${a}`);
    else if (!out.command) out.command = a;
    else if (out.command === 'update' && out.file === undefined) out.file = resolve(a);
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  out.workdir = out.workdir ? resolve(out.workdir) : defaultWorkdir();
  return out;
}
