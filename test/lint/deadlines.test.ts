// The table of deadline layers (@baetyl/core/function/deadlines.ts) stays true as code moves: every
// file it names exists and marks the layer where it is enforced ("deadline layer: <name>"), and no
// file marks a layer the table does not have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEADLINE_LAYERS } from '@baetyl/core/function';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The layer names a file marks; "deadline layers: a, and b for ..." marks the names the table knows. */
function marks(text: string): string[] {
  const names = DEADLINE_LAYERS.map((l) => l.name);
  const out: string[] = [];
  for (const m of text.matchAll(/deadline layers?: ([^(\n]+)/g)) {
    const said = m[1]!;
    const known = names.filter((n) => said.includes(n));
    out.push(...(known.length > 0 ? known : [said.trim()]));
  }
  return out;
}

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === '__pycache__' || name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) sources(full, out);
    else if (/\.(ts|py)$/.test(name)) out.push(full);
  }
  return out;
}

test('every file of the deadline table marks its layer', () => {
  assert.ok(DEADLINE_LAYERS.length >= 8);
  for (const layer of DEADLINE_LAYERS) {
    for (const file of layer.where) {
      const path = join(ROOT, file);
      assert.ok(existsSync(path), `deadline layer "${layer.name}": ${file} does not exist`);
      assert.ok(marks(readFileSync(path, 'utf8')).includes(layer.name), `${file} does not mark "deadline layer: ${layer.name}"`);
    }
  }
});

test('every marked layer is in the table, with the file that marks it', () => {
  const files = [...sources(join(ROOT, 'packages/function-manager/src')), ...sources(join(ROOT, 'packages/runtime'))];
  let seen = 0;
  for (const path of files) {
    const file = relative(ROOT, path);
    for (const name of marks(readFileSync(path, 'utf8'))) {
      seen++;
      const layer = DEADLINE_LAYERS.find((l) => l.name === name);
      assert.ok(layer, `${file} marks "deadline layer: ${name}", which the table does not have`);
      assert.ok(layer.where.includes(file), `${file} marks "deadline layer: ${name}" but the table does not name it`);
    }
  }
  assert.ok(seen >= 14, `only ${seen} marks found`);
});
