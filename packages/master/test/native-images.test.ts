// Which file the native engine runs for a built-in image: the runtime's bundle when it is newer
// than every compile of what it contains, else the compiled entry point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_IN_IMAGES, freshBundle, resolveProgram } from '../src/engine/native/images.js';

function touch(file: string, secondsAgo: number): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(file, t, t);
}

test('the runtime bundle is used only while it is newer than the compiles of runtime and core', () => {
  const root = mkdtempSync(join(tmpdir(), 'images-'));
  const python = BUILT_IN_IMAGES['baetyl-function-python36']!;
  const bundle = join(root, 'packages/runtime/dist/bundle/main.mjs');
  touch(join(root, 'packages/runtime/dist/tsconfig.tsbuildinfo'), 60);
  touch(join(root, 'packages/core/dist/tsconfig.tsbuildinfo'), 60);
  assert.equal(freshBundle(python, root), undefined, 'no bundle yet');
  touch(bundle, 30);
  assert.equal(freshBundle(python, root), bundle);
  // A later `tsc -b` that changed core (but no bundling since): the bundle is stale.
  touch(join(root, 'packages/core/dist/tsconfig.tsbuildinfo'), 10);
  assert.equal(freshBundle(python, root), undefined);
  touch(bundle, 0);
  assert.equal(freshBundle(python, root), bundle);
  // The hub and the function manager have no bundle.
  assert.equal(freshBundle(BUILT_IN_IMAGES['baetyl-hub']!, root), undefined);
});

test('after make build, the runtimes run from the fresh bundle and the other services from dist/src', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inst-'));
  const sql = resolveProgram('hub.baidubce.com/baetyl/baetyl-function-sql:latest', dir);
  assert.match(sql.args[0]!, /packages\/runtime\/dist\/bundle\/main\.mjs$/);
  assert.deepEqual(sql.args.slice(1), ['--runtime', 'sql']);
  const hub = resolveProgram('hub.baidubce.com/baetyl/baetyl-hub:latest', dir);
  assert.match(hub.args[0]!, /packages\/hub\/dist\/src\/main\.js$/);
});

test('the hub and function manager images start node with the flags the native engine uses', () => {
  const images = fileURLToPath(new URL('../../../../images/', import.meta.url));
  for (const [image, dir] of [['baetyl-hub', 'hub'], ['baetyl-function-manager', 'function-manager']] as const) {
    const dockerfile = readFileSync(join(images, dir, 'Dockerfile'), 'utf8');
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
    assert.ok(entry, `${dir}/Dockerfile has an ENTRYPOINT in exec form`);
    const flags = BUILT_IN_IMAGES[image]!.node ?? [];
    assert.ok(flags.length > 0, `${image} has node flags`);
    assert.deepEqual(entry, ['node', ...flags, `/opt/baetyl/packages/${dir}/dist/src/main.js`]);
    const program = resolveProgram(`hub.baidubce.com/baetyl/${image}:latest`, mkdtempSync(join(tmpdir(), 'inst-')));
    assert.deepEqual(program.nodeFlags, flags);
  }
});
