// The native engine: every instance is a process (in its own process group) started from the
// instance's own directory. Process groups die with the master, even one killed with SIGKILL (the
// guardian sees to it), and a later master removes any it recorded and finds alive.
import { spawn, type ChildProcess } from 'node:child_process';
import { Guardian } from './guardian.js';
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppSpec } from '../../app/model.js';
import {
  PermanentStartError,
  type Engine,
  type ExitStatus,
  type InstanceDescription,
  type InstanceRecord,
  type InstanceRequest,
  type ResourceTotals,
  type ResourceUsage,
  type RunningInstance,
} from '../engine.js';
import { join } from 'node:path';
import { nativePythonProgram, nodeRuntimeEnv, runtimeConfigPath } from '../runtime-config.js';
import { resolveProgram } from './images.js';
import { retiredImage } from '../retired-images.js';
import { prepareInstanceDir, removeInstanceDir } from './instance-dir.js';
import { describeProcess, processOf } from './record.js';
import { CLOCK_TICKS, PAGE_SIZE, groupMembers, killGroup, readStat } from './proc.js';
import { totalmem } from 'node:os';

const OUTPUT_LINES = 200;

export interface NativeEngineOptions {
  workdir: string;
  /** The master API socket (unix mode), linked into each instance dir. */
  socketPath?: string;
}

class NativeInstance implements RunningInstance {
  readonly exited: Promise<ExitStatus>;
  readonly description: InstanceDescription;
  private readonly output: string[] = [];
  private done = false;
  private last?: { at: number; ticks: number };

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly pgid: number,
    startTicks: number,
    onExit: () => void,
  ) {
    this.description = describeProcess(name, pgid, startTicks);
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) this.remember(l);
      });
      stream?.on('end', () => partial && this.remember(partial));
    }
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.on('exit', (code, signal) => {
        this.done = true;
        // Take down whatever the process left behind in its group.
        killGroup(pgid, 'SIGKILL');
        onExit();
        resolve({ code, signal });
      });
    });
  }

  private remember(line: string) {
    this.output.push(line);
    if (this.output.length > OUTPUT_LINES) this.output.shift();
  }

  recentOutput(): string[] {
    return [...this.output];
  }

  async stop(graceMs: number): Promise<void> {
    if (this.done) return;
    killGroup(this.pgid, 'SIGTERM');
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) killGroup(this.pgid, 'SIGKILL');
    await this.exited;
  }

  async totals(): Promise<ResourceTotals | undefined> {
    if (this.done) return undefined;
    const members = groupMembers(this.pgid);
    return {
      cpuSeconds: members.reduce((a, m) => a + m.cpuTicks, 0) / CLOCK_TICKS,
      rssBytes: members.reduce((a, m) => a + m.rssPages * PAGE_SIZE, 0),
    };
  }

  async usage(): Promise<ResourceUsage | undefined> {
    if (this.done) return undefined;
    const members = groupMembers(this.pgid);
    const ticks = members.reduce((a, m) => a + m.cpuTicks, 0);
    const rss = members.reduce((a, m) => a + m.rssPages * PAGE_SIZE, 0);
    const now = Date.now();
    let percent = 0;
    if (this.last && now > this.last.at) percent = (((ticks - this.last.ticks) / CLOCK_TICKS) * 1000 * 100) / (now - this.last.at);
    this.last = { at: now, ticks };
    const time = new Date(now).toISOString();
    const total = totalmem();
    return {
      cpu: { time, used_percent: Number(percent.toFixed(2)) },
      mem: { time, total, used: rss, used_percent: Number(((rss / total) * 100).toFixed(2)) },
    };
  }
}

export class NativeEngine implements Engine {
  readonly name = 'native' as const;
  private readonly guardian = new Guardian();

  constructor(private readonly opts: NativeEngineOptions) {}

  async prepare(_app: AppSpec): Promise<void> {}

  async start(req: InstanceRequest): Promise<RunningInstance> {
    const { workdir } = this.opts;
    const retired = retiredImage(req.service.image);
    if (retired) throw new PermanentStartError(retired);
    const dir = prepareInstanceDir(workdir, req.service, req.instance, this.opts.socketPath);
    const program = resolveProgram(
      req.service.image,
      dir,
      (kind) => nativePythonProgram(kind, dir, req.service, req.env),
      (kind) => nodeRuntimeEnv(kind, join(dir, runtimeConfigPath(req.service)), req.env),
    );
    if (program.file !== process.execPath && !program.env) makeExecutable(program.file);
    const args = [...(program.nodeFlags ?? []), ...program.args, ...req.service.args];
    // A process sees the host's files where they are.
    const env = { ...program.defaultEnv, ...req.env, ...Object.fromEntries((req.files ?? []).map((f) => [f.env, f.hostPath])) };
    const child = spawn(program.file, args, {
      cwd: dir,
      env: program.env ? { ...env, ...program.env } : env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      argv0: req.instance,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      // Not permanent: a spawn can fail for want of resources (EAGAIN, EMFILE) that come back.
      child.once('error', (err: NodeJS.ErrnoException) => {
        // ENOENT for a file that exists: the interpreter on its #! line is what is missing.
        const why =
          err.code === 'ENOENT' && existsSync(program.file) ? `${err.message} (the file exists: the interpreter its first line names is missing)` : err.message;
        reject(new Error(`cannot run ${program.describe} for instance ${req.instance}: ${why}`));
      });
    });
    const pid = child.pid!;
    const startTicks = readStat(pid)?.startTicks ?? 0;
    this.guardian.watch(pid);
    return new NativeInstance(req.instance, child, pid, startTicks, () => {
      this.guardian.forget(pid);
      removeInstanceDir(workdir, req.service.name, req.instance);
    });
  }

  async recover(records: InstanceRecord[]): Promise<number> {
    let removed = 0;
    const alive: number[] = [];
    for (const r of records) {
      const recorded = processOf(r);
      if (!recorded) continue;
      const { pgid, start_ticks } = recorded;
      // Only a process that is still the one we started: a pid alone may have been reused.
      // If the leader is gone, its group's members started after it are still ours.
      const st = readStat(pgid);
      const ours = st ? st.startTicks === start_ticks : groupMembers(pgid).some((m) => m.startTicks >= start_ticks);
      if (!ours) continue;
      killGroup(pgid, 'SIGTERM');
      alive.push(pgid);
      removed++;
    }
    const deadline = Date.now() + 5000;
    while (alive.some((p) => groupMembers(p).length > 0) && Date.now() < deadline) await sleep(50);
    for (const p of alive) killGroup(p, 'SIGKILL');
    return removed;
  }

  async close(): Promise<void> {
    this.guardian.close();
  }
}

function makeExecutable(file: string) {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    try {
      chmodSync(file, 0o755);
    } catch {
      // spawn will report it.
    }
  }
}
