// `baetyl check` checks each service's own config with that service's loader, found through the
// service's mounts: errors with file, line and path (exit 1), warnings, and a line per service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runBaetyl } from './helpers.js';

interface Svc {
  name: string;
  image: string;
  conf?: string;
  args?: string[];
  replica?: number;
}

function workdir(services: Svc[], mode = 'docker'): string {
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-check-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  // Docker mode by default: no native program is needed, and check talks to no docker engine.
  writeFileSync(join(dir, 'etc/baetyl/conf.yml'), `mode: ${mode}\n`);
  const volumes: Array<{ name: string; path: string }> = [];
  const app = services.map((s) => {
    if (s.conf === undefined) return { name: s.name, image: s.image, replica: s.replica ?? 1, args: s.args ?? [] };
    mkdirSync(join(dir, `var/db/baetyl/${s.name}-conf`), { recursive: true });
    writeFileSync(join(dir, `var/db/baetyl/${s.name}-conf/service.yml`), s.conf);
    volumes.push({ name: `${s.name}-conf`, path: `var/db/baetyl/${s.name}-conf` });
    return {
      name: s.name,
      image: s.image,
      replica: s.replica ?? 1,
      args: s.args ?? [],
      mounts: [{ name: `${s.name}-conf`, path: 'etc/baetyl', readonly: true }],
    };
  });
  mkdirSync(join(dir, 'var/db/baetyl'), { recursive: true });
  writeFileSync(join(dir, 'var/db/baetyl/application.yml'), stringify({ version: 'v1', services: app, volumes }));
  return dir;
}

test("each service's config is checked by its own loader; a bad value fails check with its file, line and path", async () => {
  const dir = workdir([
    { name: 'localhub', image: 'hub.baidubce.com/baetyl/baetyl-hub:1.0.0', conf: 'listen: [tcp://0.0.0.0:1883]\nlisten_: []\n' },
    { name: 'function-manager', image: 'baetyl-function-manager', conf: 'hub:\n  address: tcp://localhub:1883\n  keepalive: soon\nrules: []\nfunctions: []\n' },
    { name: 'sayhi3', image: 'baetyl-function-python3', replica: 0, conf: 'functions:\n  - name: f\n    handler: index.handler\n' },
    { name: 'mosquitto', image: 'eclipse-mosquitto:1.6' },
    { name: 'filter', image: 'baetyl-function-sql', replica: 0, conf: "functions:\n  - name: f\n    handler: 'select * where'\n" },
  ]);
  try {
    const res = await runBaetyl(['check', '-w', dir]);
    assert.equal(res.code, 1, res.stderr);
    const hubFile = join(dir, 'var/db/baetyl/localhub-conf/service.yml');
    assert.match(
      res.stderr,
      new RegExp(`^warning: ${hubFile}:2:1: listen_: unknown key "listen_" is ignored, as Baetyl v1 ignored it; did you mean "listen"\\?$`, 'm'),
    );
    assert.match(res.stderr, new RegExp(`^service localhub \\(hub\\.baidubce\\.com/baetyl/baetyl-hub:1\\.0\\.0\\): ${hubFile}: OK$`, 'm'));
    // The function manager's own loader: a duration that is not one.
    assert.match(res.stderr, /function-manager-conf\/service\.yml:3:14: hub\.keepalive: expected a duration like "30s"/);
    // The python3 (v1.0) name is checked as the python36 runtime: codedir is required there.
    assert.match(res.stderr, /sayhi3-conf\/service\.yml:2:5: functions\[0\]\.codedir: is required by the python36 runtime/);
    // An image with no checker is a line, not an error.
    assert.match(res.stderr, /^service mosquitto \(eclipse-mosquitto:1\.6\): its config is not checked: no config checker for eclipse-mosquitto$/m);
    // The sql runtime's SQL is compiled, as at its start.
    assert.match(res.stderr, /filter-conf\/service\.yml:3:14: functions\[0\]\.handler: function "f": SQL syntax error at line 1, column 15: /);
    assert.match(res.stderr, /baetyl check: 3 error\(s\) found; nothing was started/);
    assert.doesNotMatch(res.stderr, /OK!/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a service whose config is in none of its mounts is an error; -c in its args is followed', async () => {
  const dir = workdir([
    { name: 'localhub', image: 'baetyl-hub' },
    { name: 'other', image: 'baetyl-hub', args: ['-c', 'etc/baetyl/hub.yml'], conf: 'listen: [tcp://0.0.0.0:1884]\n' },
  ]);
  try {
    writeFileSync(join(dir, 'var/db/baetyl/other-conf/hub.yml'), 'listen: tcp://0.0.0.0:1884\n');
    const res = await runBaetyl(['check', '-w', dir]);
    assert.equal(res.code, 1, res.stderr);
    assert.match(
      res.stderr,
      /service localhub \(baetyl-hub\): its config etc\/baetyl\/service\.yml is not in any of its mounts; mount the volume holding its service\.yml at etc\/baetyl/,
    );
    assert.match(res.stderr, /other-conf\/hub\.yml:1:9: listen: expected array, got "tcp:\/\/0\.0\.0\.0:1884"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('native mode: a python runtime with no interpreter to run on is a warning (only that service will fail)', async () => {
  const dir = workdir(
    [
      {
        name: 'sayhi3',
        image: 'baetyl-function-python3',
        replica: 0,
        conf: 'functions:\n  - name: f\n    handler: index.handler\n    codedir: code\nruntime:\n  python: /nonexistent/python3.6\n',
      },
    ],
    'native',
  );
  try {
    const res = await runBaetyl(['check', '-w', dir]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stderr,
      /^warning: service sayhi3 \(baetyl-function-python3\) will fail at start: the python36 runtime cannot run the Python interpreter "\/nonexistent\/python3\.6" set by runtime\.python/m,
    );
    assert.match(res.stderr, /^service sayhi3 \(baetyl-function-python3\): \S+sayhi3-conf\/service\.yml: OK$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
