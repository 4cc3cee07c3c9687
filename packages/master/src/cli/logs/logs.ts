// `baetyl logs [-f] [-n N] [SERVICE|INSTANCE]`: with no name the master's log; with a service's
// name every instance's lines, each prefixed with its instance; with an instance's name its lines
// only. The master's log is a file (src/logs/); where the instances' lines are is the engine's
// to say (engine/<mode>/logs.ts). Needs no running master.
import { engineOf } from '../../engine/engines.js';
import { masterLogs } from '../../logs/files.js';
import type { LogsRequest } from '../../logs/request.js';
import { render, type LabelledLine } from '../../logs/line-fields.js';
import type { LoadedConfig } from '../../workdir/load.js';
import type { CliArgs } from '../args.js';

function writer(out: NodeJS.WritableStream): (lines: LabelledLine[]) => void {
  return (lines) => {
    if (lines.length) out.write(`${lines.map(render).join('\n')}\n`);
  };
}

export async function logs(args: CliArgs, loaded: LoadedConfig, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const req: LogsRequest = { lines: args.lines, follow: args.follow, write: writer(out) };
  if (args.name === undefined) return masterLogs(loaded, req);
  return engineOf(loaded.conf).logs(loaded, args.name, req);
}
