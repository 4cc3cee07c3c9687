import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseApp } from '../src/app/load.js';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BAETYL, makeWorkdir, runBaetyl, starts } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

test('the v0 list shape: defaults, mounts resolved to volume paths, durations converted', () => {
  const app = parseApp(
    `version: v0
services:
  - name: localhub
    image: hub.baidubce.com/baetyl/baetyl-hub
    replica: 1
    ports: [1883:1883]
    mounts:
      - {name: conf, path: /etc/baetyl/, readonly: true}
    restart: {policy: on-failure, backoff: {min: 2s, max: 1m}}
    resources: {memory: {limit: 50m}, cpu: {cpus: 0.5}}
volumes:
  - {name: conf, path: var/db/baetyl/conf}
`,
    'application.yml',
  );
  const s = app.services[0]!;
  assert.equal(app.version, 'v0');
  assert.deepEqual(s.mounts, [{ volume: 'conf', source: 'var/db/baetyl/conf', target: 'etc/baetyl', readonly: true }]);
  assert.deepEqual(s.restart, { policy: 'on-failure', retry: { max: 0 }, backoff: { min: 2000, max: 60_000, factor: 2, reset: 60_000 } });
  assert.equal(s.resources.memory?.limit, 50 * 1024 * 1024);
  assert.deepEqual(s.ports, ['1883:1883']);
  assert.deepEqual(s.env, {});
});

test('the compose shape: depends_on gives the start order, volumes in both forms', () => {
  const app = parseApp(
    `version: "3"
app_version: v5
services:
  function-manager:
    image: baetyl-function-manager
    depends_on: [localhub]
    volumes:
      - fm-conf:/etc/baetyl:ro
    environment: ["A=1", "B=x=y"]
    command: -c etc/baetyl/service.yml
  localhub:
    image: baetyl-hub
    replica: 1
    volumes:
      - {type: volume, source: hub-conf, target: /etc/baetyl, read_only: true}
      - {type: bind, source: ./var/log, target: /var/log/baetyl}
volumes:
  fm-conf: {path: var/db/baetyl/fm-conf}
  hub-conf: {}
`,
    'application.yml',
  );
  assert.equal(app.version, 'v5');
  assert.deepEqual(
    app.services.map((s) => s.name),
    ['localhub', 'function-manager'],
  );
  const fm = app.services[1]!;
  assert.deepEqual(fm.mounts, [{ volume: 'fm-conf', source: 'var/db/baetyl/fm-conf', target: 'etc/baetyl', readonly: true }]);
  assert.deepEqual(fm.env, { A: '1', B: 'x=y' });
  assert.deepEqual(fm.args, ['-c', 'etc/baetyl/service.yml']);
  const hub = app.services[0]!;
  assert.equal(hub.mounts[0]!.source, 'var/db/baetyl/volumes/hub-conf');
  assert.deepEqual(hub.mounts[1], { volume: './var/log', source: './var/log', target: 'var/log/baetyl', readonly: false });
});

test('the compose shape refuses a dependency cycle and an unknown dependency', () => {
  assert.throws(
    () => parseApp('services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n', 'app.yml'),
    /app\.yml:\d+:\d+: services\.a\.depends_on: dependency cycle: a -> b -> a; remove one depends_on/,
  );
  assert.throws(
    () => parseApp('services:\n  a: {image: x, depends_on: [ghost]}\n', 'app.yml'),
    /services\.a\.depends_on\[0\]: depends on unknown service "ghost"/,
  );
});

test('network_mode and networks together are refused', () => {
  assert.throws(
    () => parseApp('services:\n  - {name: a, image: x, network_mode: host, networks: [n]}\n', 'app.yml'),
    /services\[0\]\.networks: a service cannot have both network_mode and networks/,
  );
});

test('-c names another conf.yml, relative to the workdir', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  writeFileSync(join(wd.dir, 'etc/baetyl/other.yml'), 'mode: native\ngrace: 1s\nlogger: {path: var/log/other.log}\n');
  const bad = await runBaetyl(['check', '-w', wd.dir, '-c', 'etc/baetyl/missing.yml']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /missing\.yml: cannot read the config: file not found/);
  const m = spawn(process.execPath, [BAETYL, 'start', '-w', wd.dir, '-c', 'etc/baetyl/other.yml'], { stdio: 'ignore' });
  try {
    await waitFor('the service', () => starts(wd).length === 1);
    await waitFor('the log at the other path', () => readFileSync(join(wd.dir, 'var/log/other.log'), 'utf8').includes('services started'));
    assert.match(readFileSync(join(wd.dir, 'var/log/other.log'), 'utf8'), /grace: 1000000000;/);
  } finally {
    m.kill('SIGTERM');
    await new Promise((r) => m.once('exit', r));
  }
});
