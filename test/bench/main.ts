// `make bench`: runs the benchmark suite and prints the table; writes it as JSON too.
// Usage: node test/dist/bench/main.js [--out bench-results.json] [--only hub,pipeline,ondemand,cold,memory,connections]
//        [--runs 3] [--quick]
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Report } from './report.js';
import { hubBench, plainAedesQos0 } from './scenarios/hub.js';
import { connectionsBench } from './scenarios/connections.js';
import { coldStartBench, memoryBench, onDemandBench, pipelineBench } from './scenarios/functions.js';
import { memoryFloorBench } from './scenarios/memory-floor.js';
import { REPO } from '@baetyl/test-support';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench-results.json' },
    only: { type: 'string' },
    runs: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    functions: { type: 'string' },
  },
});
const GROUPS = ['hub', 'pipeline', 'ondemand', 'cold', 'memory', 'connections'];
const only = values.only?.split(',');
const unknown = only?.filter((g) => !GROUPS.includes(g)) ?? [];
if (unknown.length) {
  process.stderr.write(`--only: unknown group ${unknown.join(', ')} (the groups: ${GROUPS.join(', ')})\n`);
  process.exit(2);
}
const want = (s: string) => !only || only.includes(s);
const runs = Number(values.runs);
const quick = values.quick;
const log = (s: string) => process.stderr.write(`${s}\n`);

const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGB: +(totalmem() / 2 ** 30).toFixed(1),
  kernel: release(),
  node: process.version,
  loadBefore: loadavg().map((x) => +x.toFixed(2)),
};
const started = new Date();
log(`bench on ${machine.cpus} x ${machine.cpu}, node ${machine.node}, load ${machine.loadBefore.join(' ')}`);
const report = new Report();
const fnOpts = {
  runs,
  warmupMs: quick ? 500 : 2000,
  measureMs: quick ? 1000 : 4000,
  window: 200,
  coldSamples: quick ? 2 : 5,
  latencyRate: 500,
  latencyMs: quick ? 2000 : 5000,
  only: values.functions?.split(','),
};
const hubOpts = { runs, warmupMs: quick ? 500 : 1000, measureMs: quick ? 1000 : 3000 };
// Plain aedes' QoS 0 1 -> 1 rate: the reference of the on-demand pipeline's ratios.
let aedesQos0: number[] | undefined;
if (want('hub')) {
  log('hub throughput, fan-in, fan-out');
  ({ aedesQos0 } = await hubBench(report, hubOpts, log));
}
if (want('pipeline')) {
  log('function pipelines (and python36 latency at 500 msgs/s)');
  await pipelineBench(report, fnOpts, log);
}
// `pipeline` includes the on-demand pool; `ondemand` runs it alone.
if ((want('pipeline') || want('ondemand')) && (!fnOpts.only || fnOpts.only.includes('python36-sayhi'))) {
  if (!aedesQos0) {
    log('plain aedes, QoS 0 1 -> 1 (the reference of the on-demand ratios; the hub group is not run)');
    aedesQos0 = await plainAedesQos0({ runs, warmupMs: 500, measureMs: 1000 }, log);
    report.add('pipeline', 'plain aedes, 1 pub -> 1 sub, QoS 0 (the reference of the ratios below)', 'msgs/s', aedesQos0);
  }
  log("python36 pipeline, on-demand pool (and the stack's memory before and after its flood)");
  await onDemandBench(report, fnOpts, aedesQos0, log);
}
if (want('cold')) {
  log('cold starts');
  await coldStartBench(report, fnOpts, log);
}
if (want('memory')) {
  log('memory');
  if (!fnOpts.only) await memoryFloorBench(report, runs, log);
  await memoryBench(report, runs, log, fnOpts.only);
}
if (want('connections')) {
  log('hub memory per idle connection');
  await connectionsBench(report, quick ? 1 : runs, log);
}
const table = report.table();
process.stdout.write(`\n${table}\n`);
const missed = report.figures.filter((f) => f.met === false).map((f) => `${f.group}: ${f.name}`);
process.stdout.write(missed.length ? `\ntargets missed: ${missed.length}\n` : '\nall targets met\n');
const out = resolve(REPO, values.out);
writeFileSync(
  out,
  JSON.stringify(
    {
      started: started.toISOString(),
      seconds: Math.round((Date.now() - started.getTime()) / 1000),
      machine: { ...machine, loadAfter: loadavg().map((x) => +x.toFixed(2)) },
      runs,
      table,
      figures: report.figures,
    },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`results written to ${out}\n`);
