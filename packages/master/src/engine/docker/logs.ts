// `baetyl logs SERVICE|INSTANCE` in docker mode: what the instances' containers wrote (`docker
// logs`). Containers are found by the labels the master puts on them (service, instance and the
// workdir), so this works whether the master runs or not. With -f it follows every container of
// the service, and attaches to each new one (a restart, a new function instance) as it appears.
import { setTimeout as sleep } from 'node:timers/promises';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import type { LogsRequest } from '../../logs/request.js';
import { mergeByTime, type LabelledLine } from '../../logs/line-fields.js';
import { staticInstances } from '../../app/instance-names.js';
import { unknownLogName } from '../../logs/names.js';
import type { LoadedConfig } from '../../workdir/load.js';
import { connectDocker } from './client.js';
import { demuxLines } from './instance.js';
import { LABEL, workdirFilter } from './labels.js';

/** `baetyl logs SERVICE|INSTANCE` in docker mode. */
export async function dockerLogs(loaded: LoadedConfig, name: string, req: LogsRequest): Promise<void> {
  const service = loaded.app.services.find((s) => s.name === name);
  const { docker, containers } = await workdirContainers(loaded);
  const byInstance = containers.filter((c) => c.Labels[LABEL.instance] === name);
  if (!service && byInstance.length === 0) {
    const known = loaded.app.services.flatMap(staticInstances);
    throw unknownLogName(loaded, name, [...known, ...containers.map((c) => c.Labels[LABEL.instance] ?? '')].filter(Boolean));
  }
  const chosen = service ? (c: Docker.ContainerInfo) => c.Labels[LABEL.service] === name : (c: Docker.ContainerInfo) => c.Labels[LABEL.instance] === name;
  if (!req.follow && !containers.some(chosen)) {
    process.stderr.write(
      `baetyl: ${service ? `service ${name}` : `instance ${name}`} has no container now (a container is removed when its instance exits; the master's log keeps the last lines of one that failed: baetyl logs)\n`,
    );
    return;
  }
  return containerLogs(docker, chosen, containers, () => listWorkdirContainers(docker, loaded.workdir), req);
}

/** The labelled containers of a workdir: what `baetyl logs` can show in docker mode. */
async function workdirContainers(loaded: LoadedConfig): Promise<{ docker: Docker; containers: Docker.ContainerInfo[] }> {
  const { docker } = await connectDocker(loaded.conf.docker.api_version, loaded.confFile);
  return { docker, containers: await listWorkdirContainers(docker, loaded.workdir) };
}

function listWorkdirContainers(docker: Docker, workdir: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: workdirFilter(workdir) });
}

/** Docker's `timestamps` prefix (RFC 3339, nanoseconds) split from the line. */
function stamped(label: string, raw: string): LabelledLine {
  const sp = raw.indexOf(' ');
  const ms = sp > 0 ? Date.parse(raw.slice(0, sp)) : NaN;
  if (Number.isNaN(ms)) return { label, text: raw };
  return { label, text: raw.slice(sp + 1), time: ms };
}

/**
 * The engine's log stream as lines: 8-byte frame headers (stream, size) before each chunk, or
 * plain text from a container with a TTY.
 */
export class LogStreamLines {
  private buf = Buffer.alloc(0);
  private framed: boolean | undefined;
  private text = '';
  /** One per stream (stdout, stderr): a character may be split across two frames. */
  private readonly decoders = [new StringDecoder('utf8'), new StringDecoder('utf8'), new StringDecoder('utf8')];

  push(chunk: Buffer): string[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.framed === undefined && this.buf.length >= 8) {
      this.framed = this.buf[0]! <= 2 && this.buf[1] === 0 && this.buf[2] === 0 && this.buf[3] === 0;
    }
    if (this.framed === undefined) return [];
    if (!this.framed) {
      this.text += this.decoders[0]!.write(this.buf);
      this.buf = Buffer.alloc(0);
    } else {
      while (this.buf.length >= 8) {
        const len = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + len) break;
        this.text += this.decoders[Math.min(2, this.buf[0]!)]!.write(this.buf.subarray(8, 8 + len));
        this.buf = this.buf.subarray(8 + len);
      }
    }
    const lines = this.text.split('\n');
    this.text = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  end(): string[] {
    const rest = [this.text, this.buf.toString('utf8'), ...this.decoders.map((d) => d.end())].join('');
    this.buf = Buffer.alloc(0);
    this.text = '';
    return rest ? [rest] : [];
  }
}

/** Prints the logs of `chosen` (containers of one service, or one instance), following with -f. */
async function containerLogs(
  docker: Docker,
  chosen: (c: Docker.ContainerInfo) => boolean,
  initial: Docker.ContainerInfo[],
  list: () => Promise<Docker.ContainerInfo[]>,
  req: LogsRequest,
): Promise<void> {
  const labelOf = (c: Docker.ContainerInfo) => c.Labels[LABEL.instance] ?? c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);
  const mine = initial.filter(chosen);
  const tail = Number.isFinite(req.lines) ? { tail: req.lines } : {};
  if (!req.follow) {
    const all = await Promise.all(
      mine.map(async (c) => {
        const buf = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, timestamps: true, follow: false, ...tail });
        return demuxLines(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf))).map((l) => stamped(labelOf(c), l));
      }),
    );
    req.write(mergeByTime(all));
    return;
  }
  const attached = new Set<string>();
  const attach = async (c: Docker.ContainerInfo, from: 'tail' | 'start') => {
    attached.add(c.Id);
    let stream: NodeJS.ReadableStream;
    try {
      stream = await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, timestamps: true, follow: true, ...(from === 'tail' ? tail : {}) });
    } catch {
      // Gone between the listing and the attach.
      return;
    }
    const lines = new LogStreamLines();
    const label = labelOf(c);
    stream.on('data', (chunk: Buffer) => {
      const got = lines.push(chunk);
      if (got.length) req.write(got.map((l) => stamped(label, l)));
    });
    stream.on('end', () => {
      const got = lines.end();
      if (got.length) req.write(got.map((l) => stamped(label, l)));
    });
  };
  await Promise.all(mine.map((c) => attach(c, 'tail')));
  for (;;) {
    await sleep(1000);
    let now: Docker.ContainerInfo[];
    try {
      now = await list();
    } catch {
      // The engine restarting: look again.
      continue;
    }
    // A container made since: a restart or a new instance. All it wrote is new.
    for (const c of now.filter(chosen)) if (!attached.has(c.Id)) await attach(c, 'start');
  }
}
