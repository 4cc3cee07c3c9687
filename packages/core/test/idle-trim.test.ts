// The idle trim in real node processes of their own, so that each starts from a known heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const MODULE = new URL('../src/memory/idle-trim.js', import.meta.url).href;

/** Runs an ES module body in a fresh node and returns what it printed as JSON. */
function run(body: string, env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import * as trim from ${JSON.stringify(MODULE)};\n${body}`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    // A trim that deadlocks (it did once: disconnecting the session from inside its callback) hangs here.
    timeout: 30_000,
  });
  assert.equal(r.status, 0, `node exited ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

// Many short-lived objects with some survivors: V8 grows the young generation, as a flood does.
const BURST = `
const { getHeapSpaceStatistics } = await import('node:v8');
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
let keep = [];
for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
keep = null;
`;

test('trimMemory shrinks the young generation a burst grew, and can run again and again', () => {
  const out = run(`${BURST}
const grown = await newSpace();
const first = await trim.trimMemory();
const after = await newSpace();
// Twice more: the inspector session of each trim must have been let go.
await trim.trimMemory();
await trim.trimMemory();
console.log(JSON.stringify({ grown, after, first }));`);
  const first = out.first as { heapBefore: number; heapAfter: number; rssBefore: number; rssAfter: number };
  assert.ok((out.grown as number) >= 4 * 2 ** 20, `the burst grew the young generation to ${out.grown} bytes`);
  assert.ok((out.after as number) <= (out.grown as number) / 4, `young generation ${out.grown} -> ${out.after} bytes`);
  assert.ok(first.heapAfter < first.heapBefore, `committed heap ${first.heapBefore} -> ${first.heapAfter}`);
  assert.ok(first.rssAfter < first.rssBefore, `RSS ${first.rssBefore} -> ${first.rssAfter}`);
});

test('a worker thread trims its own heap', () => {
  const out = run(`
const { Worker } = await import('node:worker_threads');
const w = new Worker(${JSON.stringify(`
import { parentPort } from 'node:worker_threads';
import * as trim from ${JSON.stringify(MODULE)};
${BURST}
const grown = await newSpace();
await trim.trimMemory();
parentPort.postMessage({ grown, after: await newSpace() });
`)}, { eval: true, type: 'module' });
console.log(JSON.stringify(await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
await w.terminate();`);
  assert.ok((out.after as number) < (out.grown as number), `worker's young generation ${out.grown} -> ${out.after} bytes`);
});

// startIdleTrim with short periods, so that the test takes a second or two.
const FAST = '{ quietMs: 300, checkMs: 50, minIntervalMs: 200, onTrim: (t) => trims.push(t) }';
const sleep = 'const sleep = (ms) => new Promise((r) => setTimeout(r, ms));';

test('a quiet spell after a burst trims once; staying quiet does not trim again', () => {
  const out = run(`${sleep}
const trims = [];
const t = trim.startIdleTrim(${FAST});
${BURST}
await sleep(1500);
const afterBurst = trims.length;
await sleep(1500);
t.stop();
console.log(JSON.stringify({ afterBurst, total: trims.length, rssDrop: trims[0] ? trims[0].rssBefore - trims[0].rssAfter : 0 }));`);
  assert.equal(out.afterBurst, 1, 'one trim once the burst was over and the loop quiet');
  assert.equal(out.total, 1, 'no second trim without new growth');
  assert.ok((out.rssDrop as number) > 0, `the trim gave back memory (${out.rssDrop} bytes)`);
});

test('a busy event loop is not trimmed until it falls quiet', () => {
  const out = run(`${sleep}
const trims = [];
const t = trim.startIdleTrim(${FAST});
// Busy for 1.5 s: allocation in slices that keep the loop over the busy mark.
const end = Date.now() + 1500;
while (Date.now() < end) {
  let keep = [];
  const slice = Date.now() + 40;
  while (Date.now() < slice) { keep.push({ s: 'y' + Math.random() }); if (keep.length > 50000) keep = []; }
  await new Promise((r) => setImmediate(r));
}
const whileBusy = trims.length;
await sleep(1200);
t.stop();
console.log(JSON.stringify({ whileBusy, after: trims.length }));`);
  assert.equal(out.whileBusy, 0, 'no trim while the loop was busy');
  assert.equal(out.after, 1, 'one trim once it was quiet');
});

test('BAETYL_MEMORY_TRIM=off turns it off', () => {
  const out = run(
    `${sleep}
const trims = [];
const t = trim.startIdleTrim(${FAST});
${BURST}
await sleep(1500);
t.stop();
console.log(JSON.stringify({ trims: trims.length }));`,
    { BAETYL_MEMORY_TRIM: 'off' },
  );
  assert.equal(out.trims, 0);
});
