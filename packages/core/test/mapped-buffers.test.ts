// A flood of small Buffers, of which a few live on: with the default 8 KB slabs glibc keeps the
// dead ones' memory in its heap; with mapped slabs (the function manager's setting) it goes back.
// Real node processes on the real glibc; each reads its own [heap] from /proc/self/smaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { MAPPED_BUFFERS_ENV } from '../src/memory/mapped-buffers.js';

const MODULE = new URL('../src/memory/mapped-buffers.js', import.meta.url).href;

const CHILD = `
const { useMappedBufferSlabs } = await import(${JSON.stringify(MODULE)});
if (process.argv[1] === 'mapped') useMappedBufferSlabs();
const heapKb = () => {
  let inHeap = false, kb = 0;
  for (const line of require('node:fs').readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
    else if (inHeap && line.startsWith('Rss:')) kb += Number(line.split(/\\s+/)[1]);
  }
  return kb;
};
const kept = [];
async function flood() {
  let all = [];
  for (let i = 0; i < 250000; i++) all.push(Buffer.allocUnsafe(200).fill(i & 0xff));
  const peak = heapKb();
  // A few live on (one in 13,000, and the last), as a flood's few long-lived allocations do.
  kept.push(...all.filter((_, i) => i % 13000 === 0 || i === all.length - 1));
  all = undefined;
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); }
  return { peak, after: heapKb() };
}
// Two floods: once the first one's slabs are unmapped, glibc raises its threshold by itself.
const first = await flood();
const second = await flood();
// The slab of the flood's last Buffer (the one made at start-up is used up first).
console.log(JSON.stringify({ slab: kept[kept.length - 1].buffer.byteLength, first, second }));
`;

interface Floods {
  slab: number;
  first: { peak: number; after: number };
  second: { peak: number; after: number };
}

function run(mode: 'default' | 'mapped' | 'slabs only'): Floods {
  const env: NodeJS.ProcessEnv = { ...process.env, ...(mode === 'mapped' ? MAPPED_BUFFERS_ENV : {}) };
  if (mode !== 'mapped') delete env.GLIBC_TUNABLES;
  const script = `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);\n${CHILD}`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, mode === 'default' ? 'default' : 'mapped'], {
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim()) as Floods;
}

test('floods of small Buffers go back to the system with mapped slabs, and stay in the malloc heap without', () => {
  const plain = run('default');
  const mapped = run('mapped');
  const slabsOnly = run('slabs only');
  const show = (f: Floods) => JSON.stringify(f);
  assert.equal(plain.slab, 8192);
  assert.equal(mapped.slab, 256 * 1024);
  // Without: the 50 MB of dead slabs stay in the heap, pinned by the few live ones.
  assert.ok(plain.first.peak > 40_000 && plain.first.after > 30_000, `default slabs fill the heap and stay: ${show(plain)}`);
  // With: the slabs never are in the heap, flood after flood, and the dead ones are unmapped.
  for (const f of [mapped.first, mapped.second]) assert.ok(f.peak < 10_000 && f.after < 10_000, `mapped slabs stay out of the heap: ${show(mapped)}`);
  // The tunable is what keeps the second flood out: without it glibc has raised its threshold.
  assert.ok(slabsOnly.second.peak > 30_000, `without the tunable the second flood's slabs are in the heap: ${show(slabsOnly)}`);
});
