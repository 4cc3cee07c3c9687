// What the core services cost before any code of ours runs: a bare node, and a node that has only
// imported the libraries a service loads (the ones the project is built on), after one low-memory
// GC. Their sum is the least the master, the hub and the function manager can take as three
// processes; the idle stack's figures are read against it (docs/performance.md).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from '@baetyl/test-support';
import { memoryOf } from '../support/procs.js';
import type { Report } from '../report.js';

interface Floor {
  name: string;
  /** Node flags the service runs with (engine/native/images.ts). */
  flags: string[];
  /** Libraries, each resolved from the package that depends on it. */
  libs: Array<[pkg: string, lib: string]>;
}

const CORE_LIBS: Array<[string, string]> = [
  ['core', 'yaml'],
  ['core', 'ajv'],
  ['core', 'winston'],
];

/** The libraries each process loads when it runs (seen with a module-resolve hook on the tutorial's stack). */
export const FLOORS: Floor[] = [
  { name: 'bare node', flags: [], libs: [] },
  { name: 'master (yaml, ajv, winston)', flags: [], libs: CORE_LIBS },
  {
    name: 'hub (+ aedes, level, aedes-persistence-level, prom-client)',
    flags: ['--v8-pool-size=1'],
    libs: [...CORE_LIBS, ['hub', 'aedes'], ['hub', 'level'], ['hub', 'aedes-persistence-level'], ['hub', 'prom-client']],
  },
  {
    name: 'function manager (+ @grpc/grpc-js, mqtt, prom-client)',
    flags: ['--v8-pool-size=1'],
    libs: [...CORE_LIBS, ['function-manager', '@grpc/grpc-js'], ['function-manager', 'mqtt'], ['function-manager', 'prom-client']],
  },
];

const SCRIPT = `
const [trim, ...files] = JSON.parse(process.argv[1]);
for (const f of files) await import(f);
await new Promise((r) => setTimeout(r, 300));
await (await import(trim)).trimMemory();
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);
`;

/** RSS of one node that imported `floor.libs` and was trimmed, in bytes. */
async function floorRss(floor: Floor): Promise<number> {
  const trim = pathToFileURL(join(REPO, 'packages/core/dist/src/memory/idle-trim.js')).href;
  const files = floor.libs.map(([pkg, lib]) => pathToFileURL(createRequire(join(REPO, 'packages', pkg, 'package.json')).resolve(lib)).href);
  const child = spawn(process.execPath, [...floor.flags, '--input-type=module', '-e', SCRIPT, JSON.stringify([trim, ...files])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`the floor probe for ${floor.name} exited ${code}`)));
    });
    return memoryOf(child.pid!).rss;
  } finally {
    child.kill('SIGKILL');
  }
}

export async function memoryFloorBench(report: Report, samples: number, log: (s: string) => void): Promise<void> {
  const rows = new Map<string, number[]>(FLOORS.map((f) => [f.name, []]));
  const sums: number[] = [];
  for (let i = 0; i < samples; i++) {
    let sum = 0;
    for (const f of FLOORS) {
      const rss = (await floorRss(f)) / 2 ** 20;
      rows.get(f.name)!.push(rss);
      if (f.libs.length) sum += rss;
      log(`  floor sample ${i + 1}: ${f.name} ${rss.toFixed(1)} MB RSS`);
    }
    sums.push(sum);
  }
  for (const [name, runs] of rows) report.add('memory (floor)', `${name}: RSS`, 'MB', runs);
  report.add('memory (floor)', 'master + hub + function manager, libraries only: RSS', 'MB', sums);
}
