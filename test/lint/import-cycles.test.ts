// scripts/import-cycles.mjs, the check `make lint` runs, on a small workspace planted with cycles:
// one inside a package (type-only), one across two packages through their "exports", and one
// between two packages' folders that no single chain of files closes. Then the same workspace with
// those imports removed passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHECKER = fileURLToPath(new URL('../../../scripts/import-cycles.mjs', import.meta.url));

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

const pkg = (name: string) => JSON.stringify({ name, type: 'module', exports: { '.': './dist/src/index.js', './*': './dist/src/*.js' } });

/** The fixture; `planted` adds the imports that close the cycles. */
function files(planted: boolean): Record<string, string> {
  const maybe = (line: string) => (planted ? `${line}\n` : '');
  return {
    'packages/a/package.json': pkg('@fx/a'),
    'packages/a/src/index.ts': "export { y } from './y.js';\nexport const x = 1;\n",
    'packages/a/src/y.ts': `${maybe("import type { x } from './index.js';")}export const y = 2;\n`,
    'packages/a/src/deep.ts': `${maybe("export const viaB = () => import('@fx/b');")}export const deep = 3;\n`,
    'packages/b/package.json': pkg('@fx/b'),
    'packages/b/src/index.ts': "import { deep } from '@fx/a/deep';\nimport { readFileSync } from 'node:fs';\nexport const b = deep + readFileSync.length;\n",
    'packages/c/package.json': pkg('@fx/c'),
    'packages/c/src/one.ts': "import { d } from '@fx/d';\nexport const one = d;\n",
    'packages/c/src/three.ts': 'export const three = 3;\n',
    'packages/d/package.json': pkg('@fx/d'),
    'packages/d/src/index.ts': 'export const d = 4;\n',
    'packages/d/src/two.ts': `${maybe("import { three } from '@fx/c/three';")}export const two = 2;\n`,
    // Compiled output is not source: an import here is not followed.
    'packages/d/dist/src/index.ts': "import '@fx/c/one';\n",
  };
}

function check(root: string): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [CHECKER, '--root', root], { encoding: 'utf8' });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

test('the cycle check names each planted cycle, file by file, and fails', () => {
  const root = workspace(files(true));
  try {
    const out = check(root);
    assert.equal(out.status, 1, out.stderr);
    const lines = out.stderr.split('\n');
    assert.ok(lines.includes('import cycle: packages/a/src/index.ts -> packages/a/src/y.ts -> packages/a/src/index.ts'), out.stderr);
    assert.ok(lines.includes('import cycle: packages/a/src/deep.ts -> packages/b/src/index.ts -> packages/a/src/deep.ts'), out.stderr);
    assert.ok(lines.includes('import cycle between folders: packages/c/src -> packages/d/src -> packages/c/src'), out.stderr);
    assert.ok(lines.includes('  packages/c/src/one.ts imports @fx/d'), out.stderr);
    assert.ok(lines.includes('  packages/d/src/two.ts imports @fx/c/three'), out.stderr);
    // a <-> b is a file cycle and so a folder cycle too.
    assert.match(out.stderr, /^4 import cycle\(s\) in /m);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the cycle check passes the same workspace without those imports', () => {
  const root = workspace(files(false));
  try {
    const out = check(root);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, 'no import cycles (8 files)\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
