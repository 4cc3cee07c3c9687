// The function pipelines of the tutorial on the real native stack: throughput as fast as the
// pipeline absorbs, latency at a steady rate, cold starts, and memory.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonCodec, runLoad, type LoadResult } from '../load/run.js';
import { RawClient } from '../wire/client.js';
import {
  cpuBetween,
  cpuSnapshot,
  footprintOf,
  instanceProcesses,
  memoryOf,
  startStack,
  type CpuSnapshot,
  type FunctionSetup,
  type Stack,
} from '../support/procs.js';
import { median, type Report } from '../report.js';
import { waitFor } from '@baetyl/test-support';
import { INSTANCE_NODE_FLAGS } from '@baetyl/runtime/config';

const TUTORIAL_USER = { username: 'test', password: 'hahaha' };

export interface Pipeline {
  fn: 'python36-sayhi' | 'node85-sayhi' | 'sql-filter';
  service: string;
  output: string;
  check: (out: Record<string, unknown>) => boolean;
}

export const PIPELINES: Pipeline[] = [
  {
    fn: 'python36-sayhi',
    service: 'function-python36-sayhi',
    output: 't/py3hi',
    check: (o) => o.Say === 'Hello Baetyl' && o.functionName === 'python36-sayhi' && o.messageTopic === 't',
  },
  {
    fn: 'node85-sayhi',
    service: 'function-node85-sayhi',
    output: 't/node8hi',
    check: (o) => o.Say === 'Hello Baetyl' && o.functionName === 'node85-sayhi' && o.messageTopic === 't',
  },
  { fn: 'sql-filter', service: 'function-sql-filter', output: 't/sqlfilter', check: (o) => o.topic === 't' && typeof o.qos === 'number' },
];

export interface FunctionBenchOptions {
  runs: number;
  warmupMs: number;
  measureMs: number;
  window: number;
  /** Cold start samples per runtime. */
  coldSamples: number;
  latencyRate: number;
  latencyMs: number;
  only?: string[];
}

export async function pipelineStack(p: Pipeline, qos: 0 | 1, instance: FunctionSetup['instance']): Promise<Stack> {
  const stack = await startStack({ rule: { subscribe: 't', publish: p.output, function: p.fn, qos }, instance });
  // The warm instances are up before anything is measured.
  await waitFor(`${instance.min} warm ${p.fn} instances`, () => startedInstances(stack) >= instance.min, 120_000);
  return stack;
}

export function pipelineLoad(
  stack: Stack,
  p: Pipeline,
  qos: 0 | 1,
  o: { warmupMs: number; measureMs: number; window?: number; rate?: number; maxMessages?: number },
): Promise<LoadResult> {
  return runLoad({
    port: stack.port,
    ...TUTORIAL_USER,
    publishers: 1,
    subscribers: 1,
    pubTopic: 't',
    subTopic: p.output,
    qos,
    subQos: qos,
    codec: jsonCodec(p.check),
    window: o.window,
    rate: o.rate,
    warmupMs: o.warmupMs,
    measureMs: o.measureMs,
    maxMessages: o.maxMessages,
    drainMs: 5000,
    clientPrefix: 'bench-fn',
  });
}

/** The pipelines' figures of several runs on one stack: throughput, latency, losses and CPU per message. */
interface FloodResult {
  rates: number[];
  p50: number[];
  p99: number[];
  lost: number[];
  /** Microseconds of CPU per message sent, by part of the stack (and in all). */
  cpu: Record<string, number[]>;
}

/** `o.runs` saturation runs of a pipeline on one stack, as many messages as it absorbs. */
async function floodRuns(stack: Stack, p: Pipeline, qos: 0 | 1, o: FunctionBenchOptions, label: string, log: (s: string) => void): Promise<FloodResult> {
  const out: FloodResult = { rates: [], p50: [], p99: [], lost: [], cpu: {} };
  for (let r = 0; r < o.runs; r++) {
    const before = await cpuSample(stack, p);
    const res = await pipelineLoad(stack, p, qos, o);
    const after = await cpuSample(stack, p);
    for (const k of Object.keys(after)) (out.cpu[k] ??= []).push((cpuBetween(before[k]!, after[k]!) * 1000) / Math.max(1, res.sent));
    out.rates.push(res.rate);
    out.p50.push(res.p50);
    out.p99.push(res.p99);
    out.lost.push(res.lost + res.wrong);
    log(
      `  ${label} QoS ${qos} run ${r + 1}: ${res.rate.toFixed(0)} msgs/s, p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, sent ${res.sent}, lost ${res.lost}, wrong ${res.wrong}, dup ${res.duplicates}`,
    );
  }
  return out;
}

export async function pipelineBench(report: Report, o: FunctionBenchOptions, log: (s: string) => void): Promise<void> {
  for (const p of PIPELINES) {
    if (o.only && !o.only.includes(p.fn)) continue;
    for (const qos of [0, 1] as const) {
      const stack = await pipelineStack(p, qos, { min: 10, max: 10 });
      try {
        const res = await floodRuns(stack, p, qos, o, p.fn, log);
        const name = `${p.fn} QoS ${qos}`;
        const target = p.fn === 'python36-sayhi' ? { op: '>=' as const, value: qos === 0 ? 5000 : 3000, text: qos === 0 ? '>= 5,000' : '>= 3,000' } : undefined;
        report.add('pipeline', `${name}: throughput`, 'msgs/s', res.rates, target ? { target } : {});
        report.add('pipeline', `${name}: p50 latency (saturated)`, 'ms', res.p50);
        report.add('pipeline', `${name}: p99 latency (saturated)`, 'ms', res.p99);
        report.add(
          'pipeline',
          `${name}: lost or wrong outputs`,
          'msgs',
          res.lost,
          qos === 1 || p.fn === 'python36-sayhi' ? { target: { op: '<=', value: 0, text: '0' } } : {},
        );
        for (const [k, v] of Object.entries(res.cpu)) report.add('cpu per message', `${name}: ${k}`, 'us', v);
        if (p.fn === 'python36-sayhi' && qos === 0) {
          // The "ten warm instances plus master, hub and manager": this stack keeps ten warm.
          const limit = { rss: 350, pss: 200, note: '10 warm instances' };
          await stackFootprint(report, stack, p, 'whole stack, 10 warm instances, right after the floods', limit, o.runs, log);
          await sleep(SETTLE_MS);
          await stackFootprint(report, stack, p, `whole stack, 10 warm instances, ${SETTLE_MS / 1000} s after the floods`, limit, o.runs, log);
          await latencyBench(report, stack, p, o, log);
        }
      } finally {
        await stack.stop();
      }
    }
  }
}

/** The tutorial seed's pool: no instance until messages come, then up to ten. */
export const ON_DEMAND: FunctionSetup['instance'] = { min: 0, max: 10 };

/**
 * How long a stack is left quiet before its "settled" figures: a service trims its heap after 3 s
 * of quiet (@baetyl/core/memory), and V8's own memory reducer starts 8 s after a full GC.
 */
export const SETTLE_MS = 8000;

/**
 * The python36 pipeline with the on-demand pool, at QoS 0 and 1, as a ratio to plain aedes' QoS 0
 * 1 -> 1 rate of the same session (`aedesQos0`). On the QoS 0 stack, the memory of the whole stack
 * before the flood (no instance) and right after it (the instances it started).
 */
export async function onDemandBench(report: Report, o: FunctionBenchOptions, aedesQos0: number[], log: (s: string) => void): Promise<void> {
  const p = PIPELINES[0]!;
  if (o.only && !o.only.includes(p.fn)) return;
  const aedes = median(aedesQos0);
  for (const qos of [0, 1] as const) {
    const stack = await pipelineStack(p, qos, ON_DEMAND);
    try {
      if (qos === 0) {
        // Let the services finish starting before the idle figure; then again once they settled.
        await sleep(2000);
        await stackFootprint(report, stack, p, 'whole stack, idle (no instance started)', { rss: 160, pss: 90 }, o.runs, log);
        await sleep(SETTLE_MS);
        await stackFootprint(report, stack, p, `whole stack, idle, ${SETTLE_MS / 1000} s later`, { rss: 160, pss: 90 }, o.runs, log);
      }
      const name = `${p.fn} on demand (min ${ON_DEMAND.min}, max ${ON_DEMAND.max}) QoS ${qos}`;
      // The first flood meets no instance: its figure includes starting them. The runs after it
      // find the instances the pool started, as the pre-warmed runs do.
      const first = await pipelineLoad(stack, p, qos, { warmupMs: 0, measureMs: o.warmupMs + o.measureMs, window: o.window });
      log(
        `  ${p.fn} on demand QoS ${qos}, first flood from no instance: ${first.rate.toFixed(0)} msgs/s, sent ${first.sent}, lost ${first.lost}, wrong ${first.wrong}; ${startedInstances(stack)} instances started`,
      );
      const res = await floodRuns(stack, p, qos, o, `${p.fn} on demand`, log);
      const ratio = qos === 0 ? 0.12 : 0.06;
      report.add('pipeline', `${name}: first flood from no instance (starting them included)`, 'msgs/s', [first.rate]);
      report.add('pipeline', `${name}: throughput`, 'msgs/s', res.rates);
      report.add(
        'pipeline',
        `${name}: ratio to plain aedes QoS 0 1 -> 1`,
        'x',
        res.rates.map((r) => r / aedes),
        { target: { op: '>=', value: ratio, text: `>= ${ratio}x aedes QoS 0` } },
      );
      // Every flood counts here, the first one too: a message lost while instances start is lost.
      const lost = first.lost + first.wrong + res.lost.reduce((a, b) => a + b, 0);
      report.add('pipeline', `${name}: lost or wrong outputs (all floods)`, 'msgs', [lost], { target: { op: '<=', value: 0, text: '0' } });
      report.add('pipeline', `${name}: instances started`, 'instances', [startedInstances(stack)]);
      for (const [k, v] of Object.entries(res.cpu)) report.add('cpu per message', `${name}: ${k}`, 'us', v);
      if (qos === 0) {
        // As many instances as the floods started (a fast function's calls are batched on few);
        // the ten-warm target is read on the pre-warmed stack (pipelineBench).
        await stackFootprint(report, stack, p, `whole stack right after the on-demand flood`, undefined, o.runs, log);
        // The instances stay warm (idletime is minutes); the services have given back what the flood grew.
        await sleep(SETTLE_MS);
        await stackFootprint(report, stack, p, `whole stack ${SETTLE_MS / 1000} s after the on-demand flood, instances warm`, undefined, o.runs, log);
      }
    } finally {
      await stack.stop();
    }
  }
}

/** How many instances the function manager has started so far (its log says each). */
function startedInstances(stack: Stack): number {
  const log = readFileSync(join(stack.workdir, 'var/db/baetyl/function-manager-log/service.log'), 'utf8');
  return (log.match(/msg="instance \(\S+\) started"/g) ?? []).length;
}

/** Process count, RSS and PSS of every process of the stack (the master's whole tree), `samples` times a second apart. */
async function stackFootprint(
  report: Report,
  stack: Stack,
  p: Pipeline,
  label: string,
  limit: { rss: number; pss: number; note?: string } | undefined,
  samples: number,
  log: (s: string) => void,
): Promise<void> {
  const procs: number[] = [];
  const rss: number[] = [];
  const pss: number[] = [];
  const running: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(1000);
    const m = footprintOf(await stack.processes());
    const n = (await stack.pidOf(p.service)).length;
    procs.push(m.processes);
    rss.push(m.rss / 2 ** 20);
    pss.push(m.pss / 2 ** 20);
    running.push(n);
    log(
      `  ${label} sample ${i + 1}: ${m.processes} processes, RSS ${(m.rss / 2 ** 20).toFixed(1)} MB, PSS ${(m.pss / 2 ** 20).toFixed(1)} MB, ${n} ${p.fn} instances`,
    );
  }
  const suffix = limit?.note ? ` (${limit.note})` : '';
  report.add('memory (stack)', `${label}: processes`, 'processes', procs);
  if (running.some((n) => n > 0)) report.add('memory (stack)', `${label}: ${p.fn} instances running`, 'instances', running);
  report.add('memory (stack)', `${label}: RSS`, 'MB', rss, limit ? { target: { op: '<=', value: limit.rss, text: `<= ${limit.rss} MB${suffix}` } } : {});
  report.add('memory (stack)', `${label}: PSS`, 'MB', pss, limit ? { target: { op: '<=', value: limit.pss, text: `<= ${limit.pss} MB${suffix}` } } : {});
}

/** The processes a pipeline runs through, by role, and every process of the stack ('total'). */
async function cpuSample(stack: Stack, p: Pipeline): Promise<Record<string, CpuSnapshot>> {
  const of = async (service: string) => (await stack.pidOf(service)).flatMap(instanceProcesses);
  return {
    hub: cpuSnapshot(await of('localhub')),
    'function manager': cpuSnapshot(await of('function-manager')),
    'runtime instances': cpuSnapshot(await of(p.service)),
    master: cpuSnapshot([stack.proc.pid!]),
    'load generator': cpuSnapshot([process.pid]),
    // With the time of reaped children, so that processes which ended during the run count too.
    "total: every process of the stack (master's tree)": cpuSnapshot(await stack.processes(), true),
  };
}

async function latencyBench(report: Report, stack: Stack, p: Pipeline, o: FunctionBenchOptions, log: (s: string) => void): Promise<void> {
  const p50: number[] = [];
  const p99: number[] = [];
  const lost: number[] = [];
  for (let r = 0; r < o.runs; r++) {
    const res = await pipelineLoad(stack, p, 0, { warmupMs: 1000, measureMs: o.latencyMs, rate: o.latencyRate });
    p50.push(res.p50);
    p99.push(res.p99);
    lost.push(res.lost + res.wrong);
    log(
      `  ${p.fn} at ${o.latencyRate}/s run ${r + 1}: ${res.rate.toFixed(0)} msgs/s, p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, lost ${res.lost}`,
    );
  }
  report.add('latency', `${p.fn} at ${o.latencyRate} msgs/s: p50`, 'ms', p50, { target: { op: '<=', value: 2, text: '<= 2 ms' } });
  report.add('latency', `${p.fn} at ${o.latencyRate} msgs/s: p99`, 'ms', p99, { target: { op: '<=', value: 10, text: '<= 10 ms' } });
  report.add('latency', `${p.fn} at ${o.latencyRate} msgs/s: lost`, 'msgs', lost);
}

/** One message to a function that has no instance, until its output arrives. */
export async function coldStart(stack: Stack, p: Pipeline, n: number): Promise<number> {
  let resolveOut!: (t: number) => void;
  const out = new Promise<number>((r) => (resolveOut = r));
  const sub = new RawClient({
    port: stack.port,
    clientId: 'bench-cold-sub',
    ...TUTORIAL_USER,
    onMessage: (m) => (m.payload.includes(`"n":${n}`) || m.payload.includes(`"n": ${n}`) ? resolveOut(performance.now()) : undefined),
  });
  await sub.connect();
  await sub.subscribe(p.output, 0);
  const pub = new RawClient({ port: stack.port, clientId: 'bench-cold-pub', ...TUTORIAL_USER });
  await pub.connect();
  const t0 = performance.now();
  pub.publish('t', Buffer.from(`{"id":1,"n":${n},"ts":0}`), 0);
  const timeout = new AbortController();
  const t1 = await Promise.race([out, sleep(120_000, NaN, { signal: timeout.signal }).catch(() => NaN)]);
  timeout.abort();
  pub.close();
  sub.close();
  return t1 - t0;
}

export async function coldStartBench(report: Report, o: FunctionBenchOptions, log: (s: string) => void): Promise<void> {
  for (const p of PIPELINES) {
    if (o.only && !o.only.includes(p.fn)) continue;
    const stack = await pipelineStack(p, 0, { min: 0, max: 1, idletime: '1s', evicttime: '200ms' });
    try {
      const times: number[] = [];
      for (let i = 0; i < o.coldSamples; i++) {
        await waitFor(`${p.fn} to scale to zero`, async () => (await stack.pidOf(p.service)).length === 0, 120_000);
        await sleep(300);
        const t = await coldStart(stack, p, i + 1);
        times.push(t);
        log(`  cold start ${p.fn} ${i + 1}: ${t.toFixed(0)} ms`);
      }
      const limit = COLD_LIMITS[p.fn];
      report.add('cold start', `${p.fn} (native mode)`, 'ms', times, { target: { op: '<=', value: limit, text: `<= ${limit} ms` } });
    } finally {
      await stack.stop();
    }
  }
  if (!o.only || o.only.some((f) => f !== 'python36-sayhi')) {
    const floor: number[] = [];
    for (let i = 0; i < o.coldSamples; i++) floor.push(await nodeListenFloor());
    log(`  floor: node from spawn to an http2 server listening: ${floor.map((t) => t.toFixed(0)).join(', ')} ms`);
    report.add('cold start', "floor: node (the instances' flags) from spawn to a node:http2 server listening", 'ms', floor);
  }
}

/** The lean-runtimes issue's cold-start targets, native mode. */
const COLD_LIMITS: Record<Pipeline['fn'], number> = { 'python36-sayhi': 120, 'node85-sayhi': 200, 'sql-filter': 150 };

/**
 * What any Node runtime instance pays before its own code: node starting with the instances'
 * flags and loading node:http2 to listen. A node85 or sql cold start is this plus the host, the
 * manager's dial and one call.
 */
async function nodeListenFloor(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...INSTANCE_NODE_FLAGS, '-e', "const s = require('node:http2').createServer(); s.listen(0, '127.0.0.1', () => process.stdout.write('l'))"],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the http2 floor probe exited ${code}`)));
    });
    return performance.now() - t0;
  } finally {
    child.kill('SIGKILL');
  }
}

/** Master, hub and function manager together, idle (the lean-runtimes issue's target, as the stack's rows). */
const CORE_LIMIT = { rss: 160, pss: 90 };
/** Targets for one idle instance of each runtime, in MB. */
const INSTANCE_LIMITS: Partial<Record<Pipeline['fn'], { rss?: number; pss?: number }>> = {
  'python36-sayhi': { rss: 20, pss: 12 },
  'node85-sayhi': { rss: 60 },
};

/**
 * A native stack per runtime with one warm instance (it has served 500 calls), idle for SETTLE_MS: the
 * memory of that instance's processes, and (on the first stack) of the master, hub and manager.
 */
export async function memoryBench(report: Report, samples: number, log: (s: string) => void, only?: string[]): Promise<void> {
  let first = true;
  for (const p of PIPELINES) {
    if (only && !only.includes(p.fn)) continue;
    const stack = await pipelineStack(p, 0, { min: 1, max: 1 });
    try {
      // Warm the instance with a few hundred calls, then let everything settle.
      await pipelineLoad(stack, p, 0, { warmupMs: 0, measureMs: 1000, window: 10, maxMessages: 500 });
      await sleep(SETTLE_MS);
      const rows: Record<string, { rss: number[]; pss: number[]; processes: number[] }> = {};
      const put = (k: string, m: { rss: number; pss: number; processes?: number }) => {
        rows[k] ??= { rss: [], pss: [], processes: [] };
        rows[k].rss.push(m.rss / 2 ** 20);
        rows[k].pss.push(m.pss / 2 ** 20);
        if (m.processes !== undefined) rows[k].processes.push(m.processes);
      };
      const instanceRow = `one idle ${p.fn} instance (after 500 calls)`;
      for (let i = 0; i < samples; i++) {
        if (first) {
          const master = memoryOf(stack.proc.pid!);
          const [hubPid] = await stack.pidOf('localhub');
          const [fmPid] = await stack.pidOf('function-manager');
          const hub = memoryOf(hubPid!);
          const fm = memoryOf(fmPid!);
          put('master', master);
          put('hub', hub);
          put('function manager', fm);
          put('master + hub + function manager', { rss: master.rss + hub.rss + fm.rss, pss: master.pss + hub.pss + fm.pss });
          log(
            `  memory sample ${i + 1}: master ${(master.rss / 2 ** 20).toFixed(1)} MB, hub ${(hub.rss / 2 ** 20).toFixed(1)} MB, fm ${(fm.rss / 2 ** 20).toFixed(1)} MB RSS`,
          );
        }
        const [inst] = await stack.pidOf(p.service);
        const m = footprintOf(instanceProcesses(inst!));
        put(instanceRow, m);
        log(
          `  memory sample ${i + 1}: ${p.fn} instance of ${m.processes} processes, RSS ${(m.rss / 2 ** 20).toFixed(1)} MB, PSS ${(m.pss / 2 ** 20).toFixed(1)} MB`,
        );
        await sleep(1000);
      }
      for (const [k, v] of Object.entries(rows)) {
        const total = k.startsWith('master + ');
        const limit = k === instanceRow ? INSTANCE_LIMITS[p.fn] : undefined;
        const mb = (value: number | undefined) => (value === undefined ? {} : { target: { op: '<=' as const, value, text: `<= ${value} MB` } });
        if (v.processes.length) report.add('memory (idle)', `${k}: processes`, 'processes', v.processes);
        report.add('memory (idle)', `${k}: RSS`, 'MB', v.rss, total ? mb(CORE_LIMIT.rss) : mb(limit?.rss));
        report.add('memory (idle)', `${k}: PSS`, 'MB', v.pss, total ? mb(CORE_LIMIT.pss) : mb(limit?.pss));
      }
      first = false;
    } finally {
      await stack.stop();
    }
  }
}
