// The host's command line: `--runtime <python27|python36|node85|sql> [-c etc/baetyl/service.yml]`.
import { RUNTIMES, type RuntimeKind } from './config/kinds.js';

export const USAGE = `usage: main.js --runtime <${RUNTIMES.join('|')}> [-c etc/baetyl/service.yml]`;

export interface Args {
  runtime: RuntimeKind;
  config: string;
}

/** The arguments, or 'help' for -h; throws an Error whose message ends with the usage line. */
export function parseArgs(argv: string[]): Args | 'help' {
  let runtime: string | undefined;
  let config = 'etc/baetyl/service.yml';
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--runtime' || flag === '-r') runtime = value();
    else if (flag === '-c' || flag === '--config' || flag === '--conf') config = value();
    else if (flag === '-h' || flag === '--help') help = true;
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (help) return 'help';
  if (!runtime) throw new Error(`which runtime? --runtime is required\n${USAGE}`);
  if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new Error(`unknown runtime "${runtime}": expected one of ${RUNTIMES.join(', ')}`);
  return { runtime: runtime as RuntimeKind, config };
}
