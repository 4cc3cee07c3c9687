#!/usr/bin/env node
// Writes the JSON Schema of every config file into schemas/, from the schemas the loaders use
// (packages/master/src/schemas/catalog.ts); run by `make build` after tsc. With --check it writes
// nothing and fails when schemas/ differs from what it would write.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSchemas, schemaFileText } from '../packages/master/dist/src/schemas/catalog.js';

const dir = new URL('../schemas/', import.meta.url).pathname;
const check = process.argv.includes('--check');
const wanted = new Map([...generateSchemas()].map(([file, schema]) => [file, schemaFileText(schema)]));
const present = (() => {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
})();
const read = (file) => {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
};
const stale = [...wanted].filter(([file, text]) => read(file) !== text).map(([file]) => file);
const extra = present.filter((f) => !wanted.has(f));

if (check) {
  if (stale.length || extra.length) {
    for (const f of stale) console.error(`schemas/${f} differs from what the loader's schema gives`);
    for (const f of extra) console.error(`schemas/${f} is not generated from any loader schema`);
    console.error('run "make build" (or "node scripts/schemas.mjs" after tsc -b) and commit schemas/');
    process.exit(1);
  }
  process.exit(0);
}
mkdirSync(dir, { recursive: true });
for (const file of stale) writeFileSync(join(dir, file), wanted.get(file));
for (const file of extra) rmSync(join(dir, file));
if (stale.length || extra.length) console.log(`schemas/: ${[...stale.map((f) => `wrote ${f}`), ...extra.map((f) => `removed ${f}`)].join(', ')}`);
