// `baetyl logs` from the files the workdir's config names (the master's own log; and a native
// instance's, engine/native/logs.ts): the last lines of each source, then, with -f, what they get
// from then on.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceSpec } from '../app/model.js';
import type { LoadedConfig } from '../workdir/load.js';
import { FileFollower } from './file-tail.js';
import { lineFields, mergeByTime, timeOf, type LabelledLine } from './line-fields.js';
import type { LogsRequest } from './request.js';
import { instanceDirs, masterLogFile, perInstanceFile, serviceLog } from './locations.js';

/** One file and how its lines are labelled and chosen. */
interface Source {
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

/** Prints the master's log. */
export async function masterLogs(loaded: LoadedConfig, req: LogsRequest): Promise<void> {
  await run([{ follower: new FileFollower(masterLogFile(loaded)), labelOf: () => '' }], req);
}

/**
 * Prints a service's log (every instance), or one instance's. `instance` narrows a shared file
 * to the lines naming it; a service's sole instance shares its name and its lines name none.
 * `env` templates the service's config, where its logger.path is.
 */
export async function serviceLogs(loaded: LoadedConfig, service: ServiceSpec, instance: string | undefined, req: LogsRequest, env: Record<string, string | undefined>): Promise<void> {
  const log = serviceLog(loaded, service, env);
  if (log.kind === 'none') throw new Error(`service ${service.name} writes no log file: ${log.why}`);
  if (log.kind === 'shared') {
    const labelOf = (line: string): string | undefined => {
      const f = lineFields(line);
      // Another service writing into the same volume.
      if (f.service && f.service !== service.name) return undefined;
      // runService names the instance (when it is not the service's own name); other `instance`
      // fields (the function manager's pool logs its runtimes' instances) name someone else.
      const from = f.instance?.startsWith(`${service.name}.`) ? f.instance : service.name;
      return instance === undefined || from === instance ? from : undefined;
    };
    await run([{ follower: new FileFollower(log.file), labelOf }], req);
    return;
  }
  const path = log.path;
  const sources = new Map<string, Source>();
  const discover = () => {
    const found = instance === undefined ? instanceDirs(loaded.workdir, service.name) : [instance];
    const added: Source[] = [];
    for (const name of found) {
      if (sources.has(name)) continue;
      const s: Source = { follower: new FileFollower(perInstanceFile(loaded.workdir, service.name, name, path)), labelOf: () => name };
      sources.set(name, s);
      added.push(s);
    }
    return added;
  };
  await run(discover(), req, () => discover());
}

/** Prints the last lines of every source, then follows them (and any source `more` finds) with -f. */
async function run(initial: Source[], req: LogsRequest, more?: () => Source[]): Promise<void> {
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
