// The processes a benchmark measures: a plain aedes broker, our hub with auth, ACL and a route,
// and the whole native stack (master, hub, function manager, runtimes) on a copy of the example.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Inspect } from '@baetyl/core';
import { BAETYL, canConnect, copyExample, freePort, REPO, waitFor } from '@baetyl/test-support';
import { appRunning, inspectOf } from '../../support/master-state.js';

export interface Running {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function stopper(proc: ChildProcess, cleanup?: () => void): () => Promise<void> {
  return async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(t);
    }
    cleanup?.();
  };
}

/** Extra node flags for the processes under test (e.g. --cpu-prof), from BENCH_NODE_FLAGS. */
const nodeFlags = (): string[] => (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** Plain aedes; with `level`, on aedes-persistence-level in a temporary LevelDB (the hub's store). */
export async function startPlainAedes(opts: { level?: boolean } = {}): Promise<Running> {
  const port = await freePort();
  const script = fileURLToPath(new URL('../brokers/plain-aedes.js', import.meta.url));
  const dir = opts.level ? mkdtempSync(join(tmpdir(), 'baetyl-bench-aedes-')) : undefined;
  const proc = spawn(process.execPath, [...nodeFlags(), script, String(port), ...(dir ? [dir] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor('plain aedes to listen', () => canConnect(port), 30_000);
  return { port, proc, stop: stopper(proc, dir ? () => rmSync(dir, { recursive: true, force: true }) : undefined) };
}

export const HUB_USER = { username: 'bench', password: 'bench-secret' };

/** Our hub with a principal whose ACL permits bench/#, and a rename route from the bench topic. */
export async function startHub(): Promise<Running> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-bench-hub-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  writeFileSync(
    join(dir, 'etc/baetyl/service.yml'),
    `listen:
  - tcp://127.0.0.1:${port}
principals:
  - username: ${HUB_USER.username}
    password: ${HUB_USER.password}
    permissions:
      - action: pub
        permit: ['bench/#']
      - action: sub
        permit: ['bench/#']
subscriptions:
  - source:
      topic: bench/in
    target:
      topic: bench/renamed
logger:
  path: var/log/baetyl/service.log
  level: info
`,
  );
  const main = join(REPO, 'packages/hub/dist/src/main.js');
  // The hub logs to stderr as well as to its file; the file is enough here.
  const proc = spawn(process.execPath, [...nodeFlags(), main], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.resume();
  await waitFor('the hub to listen', () => canConnect(port), 30_000);
  return { port, proc, stop: stopper(proc, () => rmSync(dir, { recursive: true, force: true })) };
}

export interface FunctionSetup {
  /** The rule: input topic, output topic, function, QoS of both sides. */
  rule: { subscribe: string; publish: string; function: string; qos: 0 | 1 };
  instance: { min: number; max: number; idletime?: string; evicttime?: string };
}

export interface Stack extends Running {
  workdir: string;
  inspect(): Promise<Inspect>;
  pidOf(service: string, instancePrefix?: string): Promise<number[]>;
  /** Every process of the stack now: the master's whole tree (see stackProcesses). */
  processes(): Promise<number[]>;
}

const SERVICE_OF: Record<string, string> = {
  'python36-sayhi': 'function-python36-sayhi',
  'python27-sayhi': 'function-python27-sayhi',
  'node85-sayhi': 'function-node85-sayhi',
  'sql-filter': 'function-sql-filter',
};

/**
 * The real master on a copy of deploy/example/native whose function manager has exactly the
 * given rule (the tutorial's other rules would share the cores and muddle the figure).
 */
export async function startStack(setup: FunctionSetup): Promise<Stack> {
  const port = await freePort();
  const workdir = copyExample('native', port);
  const fm = join(workdir, 'var/db/baetyl/function-manager-conf/service.yml');
  const { rule, instance } = setup;
  const inst = [`min: ${instance.min}`, `max: ${instance.max}`];
  if (instance.idletime) inst.push(`idletime: ${instance.idletime}`);
  if (instance.evicttime) inst.push(`evicttime: ${instance.evicttime}`);
  writeFileSync(
    fm,
    `hub:
  address: tcp://127.0.0.1:${port}
  username: test
  password: hahaha
rules:
  - clientid: bench-rule-1
    subscribe:
      topic: ${rule.subscribe}
      qos: ${rule.qos}
    function:
      name: ${rule.function}
    publish:
      topic: ${rule.publish}
      qos: ${rule.qos}
functions:
  - name: ${rule.function}
    service: ${SERVICE_OF[rule.function]}
    instance: {${inst.join(', ')}}
logger:
  path: var/log/baetyl/service.log
  level: ${process.env.BENCH_FM_LOG_LEVEL ?? 'info'}
`,
  );
  // The master and the services log at info: debug lines per message would be measured too.
  for (const f of ['etc/baetyl/conf.yml', 'var/db/baetyl/localhub-conf/service.yml']) {
    const p = join(workdir, f);
    writeFileSync(p, readFileSync(p, 'utf8').replace(/level: "?debug"?/, 'level: info'));
  }
  // BENCH_CPU_PROF=<dir> profiles the services (not the master): node 20 refuses --cpu-prof in
  // NODE_OPTIONS, so each service preloads cpu-profile.js through its env in application.yml.
  if (process.env.BENCH_CPU_PROF) {
    const appFile = join(workdir, 'var/db/baetyl/application.yml');
    const preload = fileURLToPath(new URL('./cpu-profile.js', import.meta.url));
    const env = `    env:\n      NODE_OPTIONS: "--import ${preload}"\n      BENCH_CPU_PROF: "${process.env.BENCH_CPU_PROF}"\n      BENCH_CPU_PROF_DELAY_MS: "${process.env.BENCH_CPU_PROF_DELAY_MS ?? 0}"\n`;
    const [services, volumes] = readFileSync(appFile, 'utf8').split(/^(?=volumes:)/m);
    writeFileSync(appFile, services!.replace(/^( {2}- name: .*\n)/gm, `$1${env}`) + (volumes ?? ''));
  }
  const proc = spawn(process.execPath, [BAETYL, 'start', '-w', workdir], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.resume();
  const read = (f: string) => (existsSync(join(workdir, f)) ? readFileSync(join(workdir, f), 'utf8') : '');
  await waitFor('the master to start its services', () => appRunning(workdir), 120_000);
  await waitFor('the rule to subscribe', () => read('var/db/baetyl/function-manager-log/service.log').includes('subscribed to '), 120_000);
  const inspect = async (): Promise<Inspect> => {
    const got = await inspectOf(workdir);
    if (!got) throw new Error(`the master on ${workdir} does not answer`);
    return got;
  };
  const pidOf = async (service: string, instancePrefix?: string) => {
    const s = (await inspect()).services.find((x) => x.name === service);
    return (s?.instances ?? []).filter((i) => !instancePrefix || i.name.startsWith(instancePrefix)).flatMap((i) => (i.process ? [i.process.id] : []));
  };
  const processes = async () =>
    stackProcesses(
      proc.pid!,
      (await inspect()).services.flatMap((x) => x.instances.flatMap((i) => (i.process ? [i.process.id] : []))),
    );
  return { port, proc, workdir, inspect, pidOf, processes, stop: stopper(proc, () => rmSync(workdir, { recursive: true, force: true })) };
}

/** RSS and PSS in bytes of a process (PSS splits shared pages among the processes sharing them). */
export function memoryOf(pid: number): { rss: number; pss: number } {
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rss: kb(rollup, 'Rss'), pss: kb(rollup, 'Pss') };
}

/** A process and all its descendants (the children of every thread: a thread may fork too). */
export function treeOf(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // gone
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c && !out.includes(Number(c))) out.push(Number(c));
      } catch {
        /* the thread ended */
      }
    }
  }
  return out;
}

/** The fields of /proc/<pid>/stat after the command name (field n is at index n - 3), or undefined if it is gone. */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: split after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) in milliseconds a process has used so far; 0 if it is gone. With
 * `reaped`, the time of its children that ended and that it waited for is included, so that a
 * sum over a process tree also counts the processes that ended (a killed worker, a stopped instance).
 */
export function cpuMsOf(pid: number, reaped = false): number {
  const f = statOf(pid);
  if (!f) return 0;
  // Fields 14 and 15 (utime, stime), 16 and 17 (cutime, cstime), in clock ticks (100 per second on Linux).
  const ticks = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / 100;
}

/** CPU milliseconds of some processes at one moment, keyed by pid and start time (a pid can be reused). */
export type CpuSnapshot = Map<string, number>;

export function cpuSnapshot(pids: number[], reaped = false): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const pid of new Set(pids)) {
    const f = statOf(pid);
    if (f && f[0] !== 'Z') out.set(`${pid}@${f[19]}`, cpuMsOf(pid, reaped));
  }
  return out;
}

/**
 * CPU milliseconds used between two snapshots: what each process of `after` used since `before`,
 * from zero for a process that started in between (an instance the run made the pool start).
 */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): number {
  let ms = 0;
  for (const [k, v] of after) ms += v - (before.get(k) ?? 0);
  return ms;
}

/** The live processes of a process group (a native instance is the group its first process leads). */
export function groupOf(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const f = statOf(Number(e));
    // Field 5 is the process group; a zombie holds no memory and no more CPU.
    if (f && f[0] !== 'Z' && Number(f[2]) === pgid) out.push(Number(e));
  }
  return out;
}

/**
 * The processes of one native instance, whatever its runtime is made of: its process group and
 * its subtree (a process may leave the group with setsid, or the tree by being reparented).
 */
export function instanceProcesses(pid: number): number[] {
  return [...new Set([...treeOf(pid), ...groupOf(pid)])];
}

/**
 * Every process of a stack: the master's whole tree (the master, the guardian, every service and
 * runtime instance with its descendants), and the process groups of the instances it lists.
 */
export function stackProcesses(masterPid: number, instancePids: number[] = []): number[] {
  return [...new Set([...treeOf(masterPid), ...instancePids.flatMap(instanceProcesses)])];
}

/** RSS and PSS in bytes summed over processes, and how many were measured (a process gone meanwhile is left out). */
export function footprintOf(pids: number[]): { processes: number; rss: number; pss: number } {
  let processes = 0;
  let rss = 0;
  let pss = 0;
  for (const pid of new Set(pids)) {
    let m: { rss: number; pss: number };
    try {
      m = memoryOf(pid);
    } catch {
      continue;
    }
    // A zombie's smaps_rollup is empty: it holds no memory.
    if (!Number.isFinite(m.rss) || !Number.isFinite(m.pss)) continue;
    processes++;
    rss += m.rss;
    pss += m.pss;
  }
  return { processes, rss, pss };
}
