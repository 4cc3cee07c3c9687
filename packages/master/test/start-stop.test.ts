import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { alive, instanceEnv, makeWorkdir, runBaetyl, startMaster, starts } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

test('services start in list order with their replicas, env and mounts, and stop on SIGTERM', async () => {
  const wd = makeWorkdir(
    [
      { name: 'first', replica: 1, env: { GREETING: 'hi' } },
      { name: 'second', replica: 3 },
      { name: 'idle', replica: 0 },
      {
        name: 'last',
        replica: 1,
        mounts: [
          { name: 'pkg', path: 'lib/baetyl/test-program', readonly: true },
          { name: 'data', path: 'var/db/data' },
        ],
      },
    ],
    {},
    [{ name: 'data', path: 'var/db/baetyl/data-volume' }],
  );
  const m = await startMaster(wd);
  try {
    await waitFor('five instances', () => starts(wd).length === 5);
    // The master starts instances in list order (each process then boots at its own pace).
    const order = [...m.log().matchAll(/msg="instance started" .*instance=(\S+)/g)].map((x) => x[1]);
    assert.deepEqual(order, ['first', 'second', 'second.i1', 'second.i2', 'last']);
    assert.deepEqual(new Set(starts(wd).map((s) => s.instance)), new Set(order));

    const first = await instanceEnv(wd, 'first');
    assert.equal(first.env.GREETING, 'hi');
    assert.equal(first.env.BAETYL_SERVICE_NAME, 'first');
    assert.equal(first.env.BAETYL_SERVICE_INSTANCE_NAME, 'first');
    assert.equal(first.env.OPENEDGE_SERVICE_INSTANCE_NAME, 'first');
    assert.equal(first.env.BAETYL_SERVICE_MODE, 'native');
    assert.equal(first.env.BAETYL_MASTER_API_ADDRESS, 'unix://var/run/baetyl.sock');
    assert.equal(first.env.BAETYL_MASTER_API_VERSION, 'v1');
    assert.match(first.env.BAETYL_SERVICE_TOKEN ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(realpathSync(first.cwd), realpathSync(join(wd.dir, 'var/run/baetyl/services/first/first')));
    // The socket link in the instance dir reaches the master's socket.
    assert.equal(realpathSync(join(first.cwd, 'var/run/baetyl.sock')), realpathSync(join(wd.dir, 'var/run/baetyl.sock')));

    const last = await instanceEnv(wd, 'last');
    assert.equal(realpathSync(join(last.cwd, 'var/db/data')), realpathSync(join(wd.dir, 'var/db/baetyl/data-volume')));

    const log = m.log();
    for (const line of [
      /level=info msg="mode: native; grace: 2000000000; pwd: .*; api: unix:\/\/var\/run\/baetyl.sock" baetyl=master/,
      /msg="engine started"/,
      /msg="server started"/,
      /msg="instance started" baetyl=master engine=native instance=first pid=\d+ service=first/,
      /msg="service \(first\) started"/,
      /msg="service \(idle\) started"/,
      /msg="app version \(v7\) committed"/,
      /msg="services started"/,
    ]) {
      assert.match(log, line);
    }
    assert.ok(log.indexOf('service (first) started') < log.indexOf('service (second) started'));
    assert.ok(log.indexOf('service (last) started') < log.indexOf('services started'));

    const status = await runBaetyl(['status', '-w', wd.dir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^SERVICE\s+INSTANCE\s+STATE\s+PID\/CONTAINER\s+UPTIME\s+RESTARTS/m);
    assert.match(status.stdout, /^second\s+second\.i2\s+running\s+\d+\s+\S+\s+0/m);
    assert.match(status.stdout, /^idle\s+-\s+no instance/m);
  } finally {
    m.child.kill('SIGTERM');
  }
  const exit = await m.exited;
  assert.equal(exit.code, 0);
  for (const s of starts(wd)) assert.ok(!alive(s.pid), `${s.instance} is gone`);
  assert.match(m.log(), /msg="engine stopped"/);
  assert.ok(!existsSync(join(wd.dir, 'var/run/baetyl.sock')), 'the socket is removed');
});

test('an instance that ignores SIGTERM is killed after grace, and the master still exits 0', async () => {
  const wd = makeWorkdir([{ name: 'stubborn', env: { IGNORE_TERM: '1', CHILD: '1' } }], { grace: '1s' });
  const m = await startMaster(wd);
  await waitFor('the child to start', () => existsSync(join(wd.out, 'stubborn.child.pid')));
  const child = Number(readFileSync(join(wd.out, 'stubborn.child.pid'), 'utf8'));
  const pid = starts(wd)[0]!.pid;
  m.child.kill('SIGTERM');
  const exit = await m.exited;
  assert.equal(exit.code, 0);
  assert.ok(existsSync(join(wd.out, 'term.log')), 'it was asked politely first');
  assert.ok(!alive(pid), 'the instance was killed');
  assert.ok(!alive(child), 'its child process was killed with it');
});

test('baetyl stop stops the master of that workdir only', async () => {
  const a = makeWorkdir([{ name: 'svc' }]);
  const b = makeWorkdir([{ name: 'svc' }]);
  const ma = await startMaster(a);
  const mb = await startMaster(b);
  try {
    const res = await runBaetyl(['stop', '-w', a.dir]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await ma.exited).code, 0);
    assert.ok(!alive(starts(a)[0]!.pid));
    assert.ok(alive(starts(b)[0]!.pid), 'the other master keeps running');
    const st = await runBaetyl(['status', '-w', b.dir]);
    assert.equal(st.code, 0);
    const gone = await runBaetyl(['status', '-w', a.dir]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /not running/);
  } finally {
    await mb.stop();
    await ma.stop();
  }
});

test('baetyl version and help', async () => {
  const v = await runBaetyl(['version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^baetyl version \d+\.\d+\.\d+/);
  const h = await runBaetyl(['--help']);
  assert.match(h.stdout, /baetyl start\s+\[-w workdir\] \[-c conf\]/);
  const bad = await runBaetyl(['launch']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown command "launch"/);
});
