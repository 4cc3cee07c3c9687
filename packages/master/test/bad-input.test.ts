import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorkdir, runBaetyl, startMaster, starts, type Workdir } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

const APP = 'var/db/baetyl/application.yml';

/** Both `check` and `start` refuse the workdir with `expected`, and nothing starts. */
async function refused(wd: Workdir, expected: RegExp) {
  const check = await runBaetyl(['check', '-w', wd.dir]);
  assert.equal(check.code, 1, check.stderr);
  assert.match(check.stderr, expected);
  assert.doesNotMatch(check.stderr, /OK!/);
  const start = await runBaetyl(['start', '-w', wd.dir]);
  assert.equal(start.code, 1, start.stderr);
  assert.match(start.stderr, expected);
  assert.equal(starts(wd).length, 0, 'no service started');
  assert.ok(!existsSync(join(wd.dir, 'var/run/baetyl.sock')), 'no socket left behind');
}

test('baetyl check says OK! for a good workdir', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  const res = await runBaetyl(['check', '-w', wd.dir]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /OK!/);
});

test('malformed YAML names the file and the line', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  writeFileSync(join(wd.dir, APP), 'version: v1\nservices:\n  - name: svc\n    image: [unclosed\n');
  await refused(wd, /application\.yml:\d+:\d+: invalid YAML/);
});

test('an unknown key is a warning that names the line, the path and the closest known key (v1 ignored it)', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  writeFileSync(
    join(wd.dir, APP),
    'version: v1\nservices:\n  - name: svc\n    image: test-program\n    replicas: 2\n    mounts:\n      - {name: pkg, path: lib/baetyl/test-program}\nvolumes:\n  - {name: pkg, path: pkg}\n',
  );
  const check = await runBaetyl(['check', '-w', wd.dir]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(
    check.stderr,
    /warning: \S*application\.yml:5:5: services\[0\]\.replicas: unknown key "replicas" is ignored, as Baetyl v1 ignored it; did you mean "replica"\?/,
  );
  assert.match(check.stderr, /OK!/);
});

test('a mistyped field says what was expected', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  writeFileSync(join(wd.dir, APP), 'version: v1\nservices:\n  - name: svc\n    image: x\n    replica: two\n    restart:\n      policy: sometimes\n');
  await refused(wd, /services\[0\]\.replica: expected integer, got "two"/);
  await refused(wd, /services\[0\]\.restart\.policy: expected one of "always", "on-failure", "no", got "sometimes"/);
});

test('a bad conf.yml is named too', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  writeFileSync(join(wd.dir, 'etc/baetyl/conf.yml'), 'mode: natve\ngrace: soon\n');
  await refused(wd, /conf\.yml:1:7: mode: expected one of "native", "docker", got "natve"/);
  await refused(wd, /conf\.yml:2:8: grace: expected a duration like "30s"/);
});

test('a mount that names an unknown volume', async () => {
  const wd = makeWorkdir([
    {
      name: 'svc',
      mounts: [
        { name: 'pkg', path: 'lib/baetyl/test-program' },
        { name: 'nowhere', path: 'etc/baetyl' },
      ],
    },
  ]);
  await refused(wd, /services\[0\]\.mounts\[1\]\.name: mount names unknown volume "nowhere"; defined volumes are: pkg/);
});

test('a duplicate service name', async () => {
  const wd = makeWorkdir([{ name: 'svc' }, { name: 'other' }, { name: 'svc' }]);
  await refused(wd, /services\[2\]\.name: service "svc" is already defined at services\[0\]; service names must be unique/);
});

test('a workdir that does not exist', async () => {
  const res = await runBaetyl(['start', '-w', '/nonexistent/baetyl-workdir']);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /workdir \/nonexistent\/baetyl-workdir does not exist/);
  const check = await runBaetyl(['check', '-w', '/nonexistent/baetyl-workdir']);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /does not exist/);
});

test('a socket in use by another master', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  const first = await startMaster(wd);
  try {
    const second = await runBaetyl(['start', '-w', wd.dir]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /the API socket .*baetyl\.sock is in use by another master \(pid \d+\); stop it with "baetyl stop -w/);
    assert.equal(starts(wd).length, 1, 'the second master started nothing');
    // The first master is unharmed.
    const st = await runBaetyl(['status', '-w', wd.dir]);
    assert.equal(st.code, 0);
  } finally {
    await first.stop();
  }
});

test('a stale socket file left by a dead master is replaced', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  mkdirSync(join(wd.dir, 'var/run'), { recursive: true });
  writeFileSync(join(wd.dir, 'var/run/baetyl.sock'), '');
  const m = await startMaster(wd);
  await m.stop();
  assert.equal((await m.exited).code, 0);
});

test('a service whose program cannot run fails clearly, and the others keep running', async () => {
  const wd = makeWorkdir([{ name: 'ghost', image: 'no-such-image', mounts: [] }, { name: 'fine' }]);
  const check = await runBaetyl(['check', '-w', wd.dir]);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /service ghost: image "no-such-image" has no native program; use one of baetyl-hub, baetyl-function-manager/);
  const m = await startMaster(wd);
  try {
    await waitFor('the good service', () => starts(wd).length === 1);
    assert.match(m.log(), /level=error msg="failed to start instance: image \\"no-such-image\\" has no native program/);
    assert.equal(starts(wd)[0]!.service, 'fine');
    const st = await runBaetyl(['status', '-w', wd.dir]);
    assert.match(st.stdout, /^fine\s+fine\s+running/m);
    // No program for the image: retrying cannot help, so it is failed, with the reason, not retried.
    assert.match(st.stdout, /^ghost\s+ghost\s+failed\b/m);
    assert.match(st.stdout, /^ghost: failed: failed to start: image "no-such-image" has no native program/m);
    assert.equal(m.log().match(/failed to start instance/g)?.length, 1, m.log());
  } finally {
    await m.stop();
  }
});
