// `baetyl logs` from files (the master's own log; a native instance's, engine/native/logs.ts):
// the last lines of each source, then, with -f, what they get from then on.
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedConfig } from '../workdir/load.js';
import { FileFollower } from './file-tail.js';
import { mergeByTime, timeOf, type LabelledLine } from './line-fields.js';
import type { LogsRequest } from './request.js';

/** One file and how its lines are labelled and chosen. */
export interface Source {
  follower: FileFollower;
  /** The instance a line is from ('' for the master's log); undefined: not one of ours. */
  labelOf: (line: string) => string | undefined;
}

function labelled(source: Source, lines: string[]): LabelledLine[] {
  const out: LabelledLine[] = [];
  let time: number | undefined;
  let label: string | undefined;
  for (const text of lines) {
    // A line of no form (a stack trace) belongs with the line before it.
    const fields = text.startsWith('time=') || text.startsWith('{');
    if (fields || label === undefined) label = source.labelOf(text);
    if (label === undefined) continue;
    time = timeOf(text) ?? time;
    out.push({ label, text, ...(time !== undefined ? { time } : {}) });
  }
  return out;
}

function accepts(source: Source): (line: string) => boolean {
  return (line) => source.labelOf(line) !== undefined;
}

/** The master's own log file: conf.yml's logger.path, relative to the workdir. */
export function masterLogFile(loaded: Pick<LoadedConfig, 'workdir' | 'conf'>): string {
  return resolve(loaded.workdir, loaded.conf.logger.path ?? 'var/log/baetyl/baetyl.log');
}

/** Prints the master's log. */
export async function masterLogs(loaded: LoadedConfig, req: LogsRequest): Promise<void> {
  await followFiles([{ follower: new FileFollower(masterLogFile(loaded)), labelOf: () => '' }], req);
}

/** Prints the last lines of every source, then follows them (and any source `more` finds) with -f. */
export async function followFiles(initial: Source[], req: LogsRequest, more?: () => Source[]): Promise<void> {
  const sources = [...initial];
  req.write(mergeByTime(sources.map((s) => labelled(s, s.follower.start(req.lines, accepts(s))))));
  if (!req.follow) {
    for (const s of sources) s.follower.close();
    return;
  }
  for (let tick = 1; ; tick++) {
    await sleep(250);
    // New instances are looked for every second; their files are read from their start.
    if (more && tick % 4 === 0) sources.push(...more());
    const batch = sources.map((s) => labelled(s, s.follower.poll()));
    if (batch.some((b) => b.length)) req.write(mergeByTime(batch));
  }
}
