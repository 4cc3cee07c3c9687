// Which file the native engine runs for a built-in image: the runtime's bundle when it is newer
// than every compile of what it contains, else the compiled entry point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceSpec } from '../src/app/model.js';
import { PermanentStartError } from '../src/engine/engine.js';
import { fileURLToPath } from 'node:url';
import { V1_0_IMAGE_NAMES } from '../src/app/image-names.js';
import { BUILT_IN_IMAGES, freshBundle, ownImageName, pythonKindOf, resolveProgram } from '../src/engine/native/images.js';
import { localAlias } from '../src/engine/docker/images.js';
import { NativeEngine } from '../src/engine/native/engine.js';
import { dockerPythonEnv, hostPathOf, nativePythonProgram } from '../src/engine/runtime-config.js';
import { serviceSpec } from './service-spec.js';

function touch(file: string, secondsAgo: number): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '');
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(file, t, t);
}

test('the runtime bundle is used only while it is newer than the compiles of runtime and core', () => {
  const root = mkdtempSync(join(tmpdir(), 'images-'));
  const node = BUILT_IN_IMAGES['baetyl-function-node85']!;
  const bundle = join(root, 'packages/runtime/dist/bundle/main.mjs');
  touch(join(root, 'packages/runtime/dist/tsconfig.tsbuildinfo'), 60);
  touch(join(root, 'packages/core/dist/tsconfig.tsbuildinfo'), 60);
  assert.equal(freshBundle(node, root), undefined, 'no bundle yet');
  touch(bundle, 30);
  assert.equal(freshBundle(node, root), bundle);
  // A later `tsc -b` that changed core (but no bundling since): the bundle is stale.
  touch(join(root, 'packages/core/dist/tsconfig.tsbuildinfo'), 10);
  assert.equal(freshBundle(node, root), undefined);
  touch(bundle, 0);
  assert.equal(freshBundle(node, root), bundle);
  // The hub, the function manager and the timer have no bundle.
  assert.equal(freshBundle(BUILT_IN_IMAGES['baetyl-hub']!, root), undefined);
  assert.equal(freshBundle(BUILT_IN_IMAGES['baetyl-timer']!, root), undefined);
});

test('after make build, the runtimes run from the fresh bundle and the other services from dist/src', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inst-'));
  const sql = resolveProgram('hub.baidubce.com/baetyl/baetyl-function-sql:latest', dir);
  assert.match(sql.args[0]!, /packages\/runtime\/dist\/bundle\/main\.mjs$/);
  assert.deepEqual(sql.args.slice(1), ['--runtime', 'sql']);
  const hub = resolveProgram('hub.baidubce.com/baetyl/baetyl-hub:latest', dir);
  assert.match(hub.args[0]!, /packages\/hub\/dist\/src\/main\.js$/);
  // v1's timer image names, of every release (and OpenEdge's), run packages/timer.
  for (const image of ['hub.baidubce.com/baetyl/baetyl-timer:1.0.0', 'baetyl-timer', 'openedge-timer:0.1.2']) {
    const timer = resolveProgram(image, dir);
    assert.match(timer.args[0]!, /packages\/timer\/dist\/src\/main\.js$/, image);
    assert.equal(timer.describe, 'packages/timer');
  }
});

function pythonService(image: string): ServiceSpec {
  return serviceSpec('function-python36-sayhi', {
    image,
    replica: 0,
    restart: { policy: 'always', retry: { max: 0 }, backoff: { min: 1000, max: 60000, factor: 2, reset: 60000 } },
  });
}

test('a python runtime image runs the interpreter itself, with the checked service.yml as JSON: no node', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inst-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  writeFileSync(join(dir, 'etc/baetyl/service.yml'), 'functions:\n  - name: f\n    handler: index.handler\n    codedir: code\nserver:\n  timeout: 2s\n');
  const service = pythonService('hub.baidubce.com/baetyl/baetyl-function-python36:1.0.0');
  const env = { ...(process.env as Record<string, string>), BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:50099' };
  const program = resolveProgram(service.image, dir, (kind) => nativePythonProgram(kind, dir, service, env));
  assert.match(program.file, /python3(\.\d+)?$/);
  assert.notEqual(program.file, process.execPath);
  assert.equal(program.args[0], '-u');
  assert.match(program.args[1]!, /packages\/runtime\/python\/run\.py$/);
  const cfg = JSON.parse(program.env!.BAETYL_RUNTIME_CONFIG!) as {
    kind: string;
    server: { address: string; timeout: number };
    functions: unknown[];
    interpreter: { path: string };
  };
  assert.equal(cfg.kind, 'python36');
  // The instance's env and the schema's conversions were applied by the loader.
  assert.equal(cfg.server.address, '127.0.0.1:50099');
  assert.equal(cfg.server.timeout, 2000);
  assert.deepEqual(cfg.functions, [{ name: 'f', handler: 'index.handler', codedir: 'code' }]);
  assert.equal(cfg.interpreter.path, program.file);
});

test('a bad python service.yml fails the start at once, naming the file, line and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inst-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  writeFileSync(join(dir, 'etc/baetyl/service.yml'), 'functions:\n  - name: f\n    handler: index.handler\n    codedir: [code]\n');
  const service = pythonService('baetyl-function-python27');
  const env = { ...(process.env as Record<string, string>), BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:50099' };
  assert.throws(
    () => resolveProgram(service.image, dir, (kind) => nativePythonProgram(kind, dir, service, env)),
    (err: Error) =>
      err instanceof PermanentStartError && /etc\/baetyl\/service\.yml:4:14: functions\[0\]\.codedir: expected string, got a list/.test(err.message),
  );
});

test('docker mode: the python config is found on the host through the service mounts, checked, and passed in the env', () => {
  const workdir = mkdtempSync(join(tmpdir(), 'wd-'));
  mkdirSync(join(workdir, 'var/db/baetyl/sayhi-conf'), { recursive: true });
  writeFileSync(
    join(workdir, 'var/db/baetyl/sayhi-conf/service.yml'),
    'functions:\n  - name: f\n    handler: index.handler\n    codedir: var/db/baetyl/code\nruntime:\n  python: /usr/bin/python3.6\n',
  );
  const service = {
    ...pythonService('baetyl-function-python36'),
    mounts: [{ volume: 'sayhi-conf', source: 'var/db/baetyl/sayhi-conf', target: 'etc/baetyl', readonly: true }],
  };
  assert.equal(hostPathOf(workdir, service, 'etc/baetyl/service.yml'), join(workdir, 'var/db/baetyl/sayhi-conf/service.yml'));
  const env = dockerPythonEnv('python36', workdir, service, { BAETYL_SERVICE_INSTANCE_ADDRESS: '0.0.0.0:50051' });
  const cfg = JSON.parse(env.BAETYL_RUNTIME_CONFIG!) as { server: { address: string }; warnings: string[] };
  assert.equal(cfg.server.address, '0.0.0.0:50051');
  // A key that does nothing in this mode is said so, in the instance's own log.
  assert.ok(
    cfg.warnings.some((w) => /runtime\.python \(\/usr\/bin\/python3\.6\) .* is not used in docker mode/.test(w)),
    cfg.warnings.join('\n'),
  );
  // No mount holds the config: a clear error.
  assert.throws(
    () => dockerPythonEnv('python36', workdir, pythonService('baetyl-function-python36'), {}),
    /its config etc\/baetyl\/service\.yml is not in any of its mounts/,
  );
});

test('the hub, function manager, remote-mqtt and timer images start node with the flags and the environment the native engine uses', () => {
  const images = fileURLToPath(new URL('../../../../images/', import.meta.url));
  for (const [image, dir] of [
    ['baetyl-hub', 'hub'],
    ['baetyl-function-manager', 'function-manager'],
    ['baetyl-remote-mqtt', 'remote-mqtt'],
    ['baetyl-timer', 'timer'],
  ] as const) {
    const dockerfile = readFileSync(join(images, dir, 'Dockerfile'), 'utf8');
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
    assert.ok(entry, `${dir}/Dockerfile has an ENTRYPOINT in exec form`);
    const flags = BUILT_IN_IMAGES[image]!.node ?? [];
    assert.ok(flags.length > 0, `${image} has node flags`);
    assert.deepEqual(entry, ['node', ...flags, `/opt/baetyl/packages/${dir}/dist/src/main.js`]);
    const program = resolveProgram(`hub.baidubce.com/baetyl/${image}:latest`, mkdtempSync(join(tmpdir(), 'inst-')));
    assert.deepEqual(program.nodeFlags, flags);
    // The image's ENV is the environment the native engine gives the service by default.
    const env = Object.fromEntries([...dockerfile.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    assert.deepEqual(env, BUILT_IN_IMAGES[image]!.env ?? {}, `${dir}/Dockerfile's ENV`);
    assert.deepEqual(program.defaultEnv ?? {}, env);
  }
  // The function manager's Buffers are mapped (docs/performance.md, round 11).
  assert.deepEqual(BUILT_IN_IMAGES['baetyl-function-manager']!.env, { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' });
});

test("the node85 and sql images start node with the flags the native engine gives their instances (the config loader's code cache is made under them)", () => {
  const images = fileURLToPath(new URL('../../../../images/', import.meta.url));
  for (const [image, lang] of [
    ['baetyl-function-node85', 'node85'],
    ['baetyl-function-sql', 'sql'],
  ] as const) {
    const dockerfile = readFileSync(join(images, `function-${lang}`, 'Dockerfile'), 'utf8');
    const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? 'null') as string[] | null;
    const flags = BUILT_IN_IMAGES[image]!.node ?? [];
    assert.ok(flags.length > 0, `${image} has node flags`);
    assert.deepEqual(entry, ['node', ...flags, '/opt/baetyl/packages/runtime/dist/bundle/main.mjs', '--runtime', lang]);
  }
});

test('the image names of every v1 release run our services, with any registry and tag', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inst-'));
  // The docker image names (0.1, 1.0, the tutorial): python27, python36, node85, sql; v1.0's native package names: python2, python3, node8.
  const kinds: Array<[string, string | undefined]> = [
    ['baetyl-function-python27', 'python27'],
    ['hub.baidubce.com/baetyl/baetyl-function-python2:1.0.0', 'python27'],
    ['openedge-function-python27:0.1.6', 'python27'],
    ['baetyl-function-python36', 'python36'],
    ['registry.local:5000/baetyl/baetyl-function-python3:latest', 'python36'],
    ['baetyl-function-node85', undefined],
    ['baetyl-function-node8', undefined],
  ];
  for (const [image, kind] of kinds) assert.equal(pythonKindOf(image), kind, image);
  for (const image of ['baetyl-function-node8', 'hub.baidubce.com/baetyl/baetyl-function-node85:1.0.0']) {
    const program = resolveProgram(image, dir);
    assert.match(program.args[0]!, /packages\/runtime\/dist\/(bundle\/main\.mjs|src\/main\.js)$/, image);
    assert.deepEqual(program.args.slice(1), ['--runtime', 'node85'], image);
  }
  // Docker mode: a name that is not present resolves to the image `make images` built it as.
  assert.equal(localAlias('hub.baidubce.com/baetyl/baetyl-function-python3:1.0.0'), 'baetyl-function-python36:latest');
  assert.equal(localAlias('baetyl-function-python2'), 'baetyl-function-python27:latest');
  assert.equal(localAlias('hub.baidubce.com/baetyl/baetyl-function-node8'), 'baetyl-function-node85:latest');
  assert.equal(localAlias('hub.baidubce.com/baetyl/baetyl-function-sql:0.1.6'), 'baetyl-function-sql:latest');
  assert.equal(localAlias('hub.baidubce.com/baetyl/baetyl-hub:1.0.0'), 'baetyl-hub:latest');
  assert.equal(localAlias('eclipse-mosquitto:1.6'), undefined);
  assert.equal(ownImageName('baetyl-timer'), 'baetyl-timer');
  assert.equal(ownImageName('eclipse-mosquitto'), undefined);
});

test('the python3 name (v1.0) launches the python36 runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inst-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  writeFileSync(join(dir, 'etc/baetyl/service.yml'), 'functions:\n  - name: f\n    handler: index.handler\n    codedir: code\n');
  const service = pythonService('hub.baidubce.com/baetyl/baetyl-function-python3:1.0.0');
  const env = { ...(process.env as Record<string, string>), BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:50098' };
  const program = resolveProgram(service.image, dir, (kind) => nativePythonProgram(kind, dir, service, env));
  assert.equal((JSON.parse(program.env!.BAETYL_RUNTIME_CONFIG!) as { kind: string }).kind, 'python36');
});

test('make images tags each runtime with the v1.0 name the master maps to it', () => {
  const script = readFileSync(fileURLToPath(new URL('../../../../scripts/images/build.sh', import.meta.url)), 'utf8');
  const map = /declare -A v1_0_name=\(([^)]*)\)/.exec(script)?.[1];
  assert.ok(map, 'build.sh declares v1_0_name');
  const tagged = Object.fromEntries([...map.matchAll(/\[([\w-]+)\]=([\w-]+)/g)].map((m) => [`baetyl-${m[2]}`, `baetyl-${m[1]}`]));
  assert.deepEqual(tagged, { ...V1_0_IMAGE_NAMES });
  // Every image name it builds from is one the master knows.
  for (const own of Object.values(tagged)) assert.ok(BUILT_IN_IMAGES[own], own);
});

test('baetyl-agent (its cloud is gone) fails at start for good, saying what to use instead', async () => {
  const workdir = mkdtempSync(join(tmpdir(), 'wd-'));
  const engine = new NativeEngine({ workdir });
  for (const image of ['baetyl-agent', 'hub.baidubce.com/baetyl/baetyl-agent:1.0.0', 'openedge-agent']) {
    await assert.rejects(
      engine.start({ service: { ...pythonService(image), name: 'agent', replica: 1 }, instance: 'agent', env: {} }),
      (err: Error) =>
        err instanceof PermanentStartError &&
        /Baidu's cloud \(BIE\), which no longer exists/.test(err.message) &&
        /remote-mqtt service \(image baetyl-remote-mqtt\)/.test(err.message) &&
        /`baetyl update`/.test(err.message),
    );
  }
  await engine.close();
});
