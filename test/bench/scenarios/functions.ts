// The function pipelines of the tutorial on the real native stack: throughput as fast as the
// pipeline absorbs, latency at a steady rate, cold starts, and memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { jsonCodec, runLoad, type LoadResult } from '../load/run.js';
import { RawClient } from '../wire/client.js';
import { cpuMsOf, memoryOf, startStack, treeOf, waitFor, type FunctionSetup, type Stack } from '../support/procs.js';
import type { Report } from '../report.js';

const TUTORIAL_USER = { username: 'test', password: 'hahaha' };

export interface Pipeline {
  fn: 'python36-sayhi' | 'node85-sayhi' | 'sql-filter';
  service: string;
  output: string;
  check: (out: Record<string, unknown>) => boolean;
}

export const PIPELINES: Pipeline[] = [
  { fn: 'python36-sayhi', service: 'function-python36-sayhi', output: 't/py3hi', check: (o) => o.Say === 'Hello Baetyl' && o.functionName === 'python36-sayhi' && o.messageTopic === 't' },
  { fn: 'node85-sayhi', service: 'function-node85-sayhi', output: 't/node8hi', check: (o) => o.Say === 'Hello Baetyl' && o.functionName === 'node85-sayhi' && o.messageTopic === 't' },
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
  const log = join(stack.workdir, 'var/db/baetyl/function-manager-log/service.log');
  await waitFor(() => (readFileSync(log, 'utf8').match(/msg="instance \(\S+\) started"/g) ?? []).length >= instance.min, `${instance.min} warm ${p.fn} instances`);
  return stack;
}

export function pipelineLoad(stack: Stack, p: Pipeline, qos: 0 | 1, o: { warmupMs: number; measureMs: number; window?: number; rate?: number; maxMessages?: number }): Promise<LoadResult> {
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

export async function pipelineBench(report: Report, o: FunctionBenchOptions, log: (s: string) => void): Promise<void> {
  for (const p of PIPELINES) {
    if (o.only && !o.only.includes(p.fn)) continue;
    for (const qos of [0, 1] as const) {
      const stack = await pipelineStack(p, qos, { min: 10, max: 10 });
      try {
        const rates: number[] = [];
        const p50: number[] = [];
        const p99: number[] = [];
        const lost: number[] = [];
        const cpu: Record<string, number[]> = {};
        for (let r = 0; r < o.runs; r++) {
          const parts = await cpuParts(stack, p);
          const before = sampleCpu(parts);
          const res = await pipelineLoad(stack, p, qos, o);
          const after = sampleCpu(parts);
          for (const k of Object.keys(parts)) (cpu[k] ??= []).push(((after[k]! - before[k]!) * 1000) / Math.max(1, res.sent));
          rates.push(res.rate);
          p50.push(res.p50);
          p99.push(res.p99);
          lost.push(res.lost + res.wrong);
          log(`  ${p.fn} QoS ${qos} run ${r + 1}: ${res.rate.toFixed(0)} msgs/s, p50 ${res.p50.toFixed(1)} ms, p99 ${res.p99.toFixed(1)} ms, sent ${res.sent}, lost ${res.lost}, wrong ${res.wrong}, dup ${res.duplicates}`);
        }
        const name = `${p.fn} QoS ${qos}`;
        const target = p.fn === 'python36-sayhi' ? { op: '>=' as const, value: qos === 0 ? 5000 : 3000, text: qos === 0 ? '>= 5,000' : '>= 3,000' } : undefined;
        report.add('pipeline', `${name}: throughput`, 'msgs/s', rates, target ? { target } : {});
        report.add('pipeline', `${name}: p50 latency (saturated)`, 'ms', p50);
        report.add('pipeline', `${name}: p99 latency (saturated)`, 'ms', p99);
        report.add('pipeline', `${name}: lost or wrong outputs`, 'msgs', lost, qos === 1 || p.fn === 'python36-sayhi' ? { target: { op: '<=', value: 0, text: '0' } } : {});
        for (const [k, v] of Object.entries(cpu)) report.add('cpu per message', `${name}: ${k}`, 'us', v);
        if (p.fn === 'python36-sayhi' && qos === 0) await latencyBench(report, stack, p, o, log);
      } finally {
        await stack.stop();
      }
    }
  }
}

/** The processes a pipeline runs through, by role (each a list of pids, process trees included). */
async function cpuParts(stack: Stack, p: Pipeline): Promise<Record<string, number[]>> {
  const instances = (await stack.pidOf(p.service)).flatMap(treeOf);
  return {
    hub: await stack.pidOf('localhub'),
    'function manager': await stack.pidOf('function-manager'),
    'runtime instances': instances,
    master: [stack.proc.pid!],
    'load generator': [process.pid],
  };
}

function sampleCpu(parts: Record<string, number[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, pids] of Object.entries(parts)) out[k] = pids.reduce((a, pid) => a + cpuMsOf(pid), 0);
  return out;
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
    log(`  ${p.fn} at ${o.latencyRate}/s run ${r + 1}: ${res.rate.toFixed(0)} msgs/s, p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, lost ${res.lost}`);
  }
  report.add('latency', `${p.fn} at ${o.latencyRate} msgs/s: p50`, 'ms', p50, { target: { op: '<=', value: 2, text: '<= 2 ms' } });
  report.add('latency', `${p.fn} at ${o.latencyRate} msgs/s: p99`, 'ms', p99, { target: { op: '<=', value: 10, text: '<= 10 ms' } });
  report.add('latency', `${p.fn} at ${o.latencyRate} msgs/s: lost`, 'msgs', lost);
}

/** One message to a function that has no instance, until its output arrives. */
export async function coldStart(stack: Stack, p: Pipeline, n: number): Promise<number> {
  let resolveOut!: (t: number) => void;
  const out = new Promise<number>((r) => (resolveOut = r));
  const sub = new RawClient({ port: stack.port, clientId: 'bench-cold-sub', ...TUTORIAL_USER, onMessage: (m) => m.payload.includes(`"n":${n}`) || m.payload.includes(`"n": ${n}`) ? resolveOut(performance.now()) : undefined });
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
        await waitFor(async () => (await stack.pidOf(p.service)).length === 0, `${p.fn} to scale to zero`);
        await sleep(300);
        const t = await coldStart(stack, p, i + 1);
        times.push(t);
        log(`  cold start ${p.fn} ${i + 1}: ${t.toFixed(0)} ms`);
      }
      report.add('cold start', `${p.fn} (native mode)`, 'ms', times, { target: { op: '<=', value: 300, text: '<= 300 ms' } });
    } finally {
      await stack.stop();
    }
  }
}

export async function memoryBench(report: Report, samples: number, log: (s: string) => void): Promise<void> {
  const p = PIPELINES[0]!;
  const stack = await pipelineStack(p, 0, { min: 1, max: 1 });
  try {
    // Warm the instance with a few hundred calls, then let everything settle.
    await pipelineLoad(stack, p, 0, { warmupMs: 0, measureMs: 1000, window: 10, maxMessages: 500 });
    await sleep(3000);
    const rows: Record<string, { rss: number[]; pss: number[] }> = {};
    const put = (k: string, m: { rss: number; pss: number }) => {
      rows[k] ??= { rss: [], pss: [] };
      rows[k].rss.push(m.rss / 2 ** 20);
      rows[k].pss.push(m.pss / 2 ** 20);
    };
    for (let i = 0; i < samples; i++) {
      const master = memoryOf(stack.proc.pid!);
      const [hubPid] = await stack.pidOf('localhub');
      const [fmPid] = await stack.pidOf('function-manager');
      const hub = memoryOf(hubPid!);
      const fm = memoryOf(fmPid!);
      put('master', master);
      put('hub', hub);
      put('function manager', fm);
      put('master + hub + function manager', { rss: master.rss + hub.rss + fm.rss, pss: master.pss + hub.pss + fm.pss });
      const [inst] = await stack.pidOf(p.service);
      const tree = treeOf(inst!).map(memoryOf);
      put('one warm python36 instance (runtime + python worker)', { rss: tree.reduce((a, m) => a + m.rss, 0), pss: tree.reduce((a, m) => a + m.pss, 0) });
      log(`  memory sample ${i + 1}: master ${(master.rss / 2 ** 20).toFixed(1)} MB, hub ${(hub.rss / 2 ** 20).toFixed(1)} MB, fm ${(fm.rss / 2 ** 20).toFixed(1)} MB RSS; python36 instance tree of ${tree.length} processes`);
      await sleep(1000);
    }
    for (const [k, v] of Object.entries(rows)) {
      const total = k.startsWith('master + ');
      report.add('memory (idle)', `${k}: RSS`, 'MB', v.rss, total ? { target: { op: '<=', value: 120, text: '<= 120 MB (RSS)' } } : {});
      report.add('memory (idle)', `${k}: PSS`, 'MB', v.pss);
    }
  } finally {
    await stack.stop();
  }
}
