// PUT /v1/system/update and `baetyl update`: the keep set, a changed config volume, a bad file,
// a failed start rolled back, ota.log, and type MST refused. Real master processes, native mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { MasterApiError } from '@baetyl/core';
import {
  alive,
  cliClient,
  clientAs,
  exampleWorkdir,
  functionAnswer,
  instanceEnv,
  makeWorkdir,
  runBaetyl,
  startMaster,
  starts,
  type Workdir,
} from './helpers.js';
import { freePort, waitFor } from '@baetyl/test-support';

const APP = 'var/db/baetyl/application.yml';

interface AppDoc {
  version: string;
  services: Array<{
    name: string;
    image: string;
    replica: number;
    env: Record<string, string>;
    mounts: Array<{ name: string; path: string; readonly?: boolean }>;
  }>;
  volumes: Array<{ name: string; path: string }>;
}

function readApp(wd: Workdir): AppDoc {
  return parse(readFileSync(join(wd.dir, APP), 'utf8')) as AppDoc;
}

/** The pid of the last start of each instance. */
function pids(wd: Workdir): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of starts(wd)) out[s.instance] = s.pid;
  return out;
}

/** Waits until each instance has recorded its start, and returns the pids. */
async function started(wd: Workdir, names: string[]): Promise<Record<string, number>> {
  await waitFor(`${names.join(', ')} to start`, () => names.every((n) => pids(wd)[n] !== undefined));
  return pids(wd);
}

function otaLines(wd: Workdir): Array<Record<string, string>> {
  const file = join(wd.dir, 'var/db/baetyl/ota.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);
}

const pkgMount = { name: 'pkg', path: 'lib/baetyl/test-program', readonly: true };

/** The v1 example's shape: a hub, the function manager, a runtime (replica 0) reading its config volume. */
function functionApp(): Workdir {
  const wd = makeWorkdir(
    [
      { name: 'localhub' },
      { name: 'function-manager' },
      { name: 'function-python3-sayhi', replica: 0, mounts: [pkgMount, { name: 'function-sayhi-conf', path: 'etc/baetyl', readonly: true }] },
      { name: 'leaving' },
    ],
    {},
    [{ name: 'function-sayhi-conf', path: 'var/db/baetyl/function-sayhi-conf' }],
  );
  mkdirSync(join(wd.dir, 'var/db/baetyl/function-sayhi-conf'), { recursive: true });
  writeFileSync(join(wd.dir, 'var/db/baetyl/function-sayhi-conf/service.yml'), 'functions:\n  - name: python3-sayhi\n    handler: index.handler\n');
  return wd;
}

test('baetyl update keeps unchanged services, restarts only the runtime whose config changed, and commits', async () => {
  const wd = functionApp();
  const m = await startMaster(wd);
  const fm = await clientAs(wd, 'function-manager');
  try {
    // The function manager starts a runtime instance, as it does for a message.
    await fm.startInstance('function-python3-sayhi', 'function-python3-sayhi.python3-sayhi.1', {});
    const runtime = await instanceEnv(wd, 'function-python3-sayhi.python3-sayhi.1');
    const before = await started(wd, ['localhub', 'function-manager', 'leaving']);

    // The user edits the function's config in place, removes one service and adds another.
    writeFileSync(join(wd.dir, 'var/db/baetyl/function-sayhi-conf/service.yml'), 'functions:\n  - name: python3-sayhi\n    handler: index.handler2\n');
    const app = readApp(wd);
    app.version = 'v8';
    app.services = app.services.filter((s) => s.name !== 'leaving');
    app.services.push({ name: 'arriving', image: 'test-program', replica: 1, env: { OUT: wd.out }, mounts: [pkgMount] });
    writeFileSync(join(wd.dir, APP), stringify(app));

    const r = await runBaetyl(['update', '-w', wd.dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^kept: {4}localhub\n {9}function-manager$/m);
    assert.match(r.stdout, /function-python3-sayhi \(the content of a read-only volume it mounts changed\)/);
    assert.match(r.stdout, /leaving \(it is no longer in application\.yml\)/);
    assert.match(r.stdout, /^started: function-python3-sayhi\n {9}arriving$/m);
    assert.match(r.stdout, /^outcome: updated, app version \(v8\) committed$/m);

    // The kept services are the same processes; the runtime's instance and the removed service are gone.
    assert.ok(alive(before.localhub!) && alive(before['function-manager']!), 'kept services still run');
    await waitFor('the new service to start', () => pids(wd).arriving !== undefined);
    const after = pids(wd);
    assert.equal(after.localhub, before.localhub);
    assert.equal(after['function-manager'], before['function-manager']);
    assert.ok(!alive(runtime.pid), "the runtime's instance was stopped");
    assert.ok(!alive(before.leaving!), 'the removed service was stopped');
    assert.match(m.log(), /level=info msg="app version \(v8\) committed"/);
    assert.ok(!existsSync(join(wd.dir, `${APP}.old`)), 'the backup is removed at commit');
    // The runtime service runs again: the function manager can start its instances.
    await fm.startInstance('function-python3-sayhi', 'function-python3-sayhi.python3-sayhi.2', {});
    await instanceEnv(wd, 'function-python3-sayhi.python3-sayhi.2');
    // A reload with nothing changed keeps everything.
    const again = await runBaetyl(['update', '-w', wd.dir]);
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /^stopped: -$/m);
    assert.match(again.stdout, /^started: -$/m);
    // No path and no ota.log: not an OTA, no ota.log (as v1).
    assert.ok(!existsSync(join(wd.dir, 'var/db/baetyl/ota.log')));
  } finally {
    fm.close();
    await m.stop();
  }
});

/** instance -> pid, from the running master's inspect. */
async function inspectPids(wd: Workdir): Promise<Record<string, number>> {
  const api = cliClient(wd, 120_000);
  try {
    const out: Record<string, number> = {};
    for (const svc of (await api.inspect()).services) for (const i of svc.instances) if (i.process) out[i.name] = i.process.id;
    return out;
  } finally {
    api.close();
  }
}

test('a changed function config restarts only its runtime: the hub and the function manager keep running, the new handler answers', async () => {
  const hubPort = await freePort();
  const wd = exampleWorkdir(hubPort);
  // A second handler in the function's code, picked later by editing only the function's config.
  const code = join(wd.dir, 'var/db/baetyl/function-sayjs-code/index.js');
  writeFileSync(code, `${readFileSync(code, 'utf8')}\nexports.other = (event, context, callback) => callback(null, { Say: 'Other' });\n`);
  const m = await startMaster(wd);
  try {
    assert.equal(JSON.parse(await functionAnswer(hubPort)).Say, 'Hello Baetyl');
    const before = await inspectPids(wd);
    const runtime = Object.keys(before).filter((n) => n.startsWith('function-node85-sayhi.'));
    assert.equal(runtime.length, 1, `one runtime instance runs: ${JSON.stringify(before)}`);

    const conf = join(wd.dir, 'var/db/baetyl/function-sayjs-conf/service.yml');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace("handler: 'index.handler'", "handler: 'index.other'"));
    const r = await runBaetyl(['update', '-w', wd.dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^kept: {4}localhub\n {9}function-manager$/m);
    assert.match(r.stdout, /^stopped: function-node85-sayhi \(the content of a read-only volume it mounts changed\)$/m);
    assert.match(r.stdout, /^started: function-node85-sayhi$/m);

    const after = await inspectPids(wd);
    assert.equal(after.localhub, before.localhub, 'the hub is the same process');
    assert.equal(after['function-manager'], before['function-manager'], 'the function manager is the same process');
    assert.ok(!alive(before[runtime[0]!]!), 'the runtime instance with the old config was stopped');
    // The manager starts a new instance, which reads the new config.
    assert.equal(JSON.parse(await functionAnswer(hubPort)).Say, 'Other');

    // A config its runtime would refuse (it starts on demand, long after a commit) refuses the update.
    const running = await inspectPids(wd);
    writeFileSync(conf, readFileSync(conf, 'utf8').replace("handler: 'index.other'", 'handler: [1]'));
    const bad = await runBaetyl(['update', '-w', wd.dir]);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /^outcome: refused, nothing was changed$/m);
    assert.match(bad.stdout, /function-sayjs-conf\/service\.yml:\d+:\d+: functions\[0\]\.handler: expected string/);
    assert.deepEqual(await inspectPids(wd), running, 'nothing was stopped or started');
  } finally {
    await m.stop();
  }
});

test('a bad application file changes nothing that runs, and the error names file, line and path', async () => {
  const wd = makeWorkdir([{ name: 'a' }, { name: 'b' }]);
  const m = await startMaster(wd);
  try {
    const before = await started(wd, ['a', 'b']);
    const original = readFileSync(join(wd.dir, APP), 'utf8');
    const app = readApp(wd);
    (app.services[1] as unknown as Record<string, unknown>).replica = -1;
    const bad = join(wd.dir, 'new-app.yml');
    writeFileSync(bad, stringify(app));
    const line =
      stringify(app)
        .split('\n')
        .findIndex((l) => l.includes('replica: -1')) + 1;

    const r = await runBaetyl(['update', '-w', wd.dir, bad]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^outcome: refused, nothing was changed$/m);
    assert.match(r.stdout, new RegExp(`new-app\\.yml:${line}:\\d+: services\\[1\\]\\.replica: `));
    assert.equal(readFileSync(join(wd.dir, APP), 'utf8'), original, 'application.yml is untouched');
    assert.deepEqual(pids(wd), before);
    assert.ok(alive(before.a!) && alive(before.b!));

    // The same edit made in place: application.yml goes back to what runs, the edit is kept aside.
    writeFileSync(join(wd.dir, APP), stringify(app));
    const inPlace = await runBaetyl(['update', '-w', wd.dir]);
    assert.equal(inPlace.code, 1);
    assert.match(inPlace.stdout, new RegExp(`application\\.yml\\.rejected:${line}:\\d+: services\\[1\\]\\.replica: `));
    assert.equal(readFileSync(join(wd.dir, APP), 'utf8'), original);
    assert.equal(readFileSync(join(wd.dir, `${APP}.rejected`), 'utf8'), stringify(app));
    assert.deepEqual(pids(wd), before);

    // An update naming a file: ota.log gets the steps, with the error.
    const steps = otaLines(wd).map((l) => l.step);
    assert.deepEqual(steps.slice(0, 3), ['UPDATING', 'ROLLINGBACK', 'ROLLEDBACK']);
    assert.match(otaLines(wd)[1]!.error!, /services\[1\]\.replica/);
    assert.match(m.log(), /msg="app is rolled back"/);
  } finally {
    await m.stop();
  }
});

test('a new service that fails to start rolls the app back: the old file and services run again', async () => {
  const wd = makeWorkdir([{ name: 'steady' }, { name: 'changing', env: { WHICH: 'old' } }]);
  const m = await startMaster(wd);
  try {
    const before = await started(wd, ['steady', 'changing']);
    const original = readFileSync(join(wd.dir, APP), 'utf8');
    // `changing` gets a config that makes it exit at once (a runtime whose config is bad), and a
    // new service has an image with no program.
    const app = readApp(wd);
    app.version = 'v9';
    app.services[1]!.env = { ...app.services[1]!.env, WHICH: 'new', EXIT_CODE: '1', EXIT_AFTER: '300' };
    const dir = join(wd.dir, 'var/db/baetyl/ota/app/v9');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'application.yml'), stringify(app));

    const api = cliClient(wd, 120_000);
    let body = '';
    try {
      await api.request('PUT', '/system/update', { type: 'APP', path: 'var/db/baetyl/ota/app/v9', trace: 'trace-9', wait: true });
      assert.fail('the update should fail');
    } catch (err) {
      assert.ok(err instanceof MasterApiError, String(err));
      body = err.body;
    } finally {
      api.close();
    }
    const report = JSON.parse(body) as { outcome: string; error: string; version: string };
    assert.equal(report.outcome, 'rolled back');
    assert.equal(report.version, 'v7');
    assert.match(report.error, /service \(changing\) instance \(changing\) exited with code 1/);

    assert.match(m.log(), /level=info msg="app is rolled back"/);
    assert.equal(readFileSync(join(wd.dir, APP), 'utf8'), original, 'the previous application.yml is restored');
    await waitFor('the old changing to run again', async () => (await instanceEnv(wd, 'changing')).env.WHICH === 'old');
    const after = pids(wd);
    assert.equal(after.steady, before.steady, 'the kept service was never touched');
    assert.notEqual(after.changing, before.changing);
    assert.ok(alive(after.changing!), 'the old version of changing runs again');

    const ota = otaLines(wd);
    assert.deepEqual(
      ota.map((l) => l.step),
      ['UPDATING', 'ROLLINGBACK', 'ROLLEDBACK'],
    );
    for (const l of ota) {
      assert.equal(l.trace, 'trace-9');
      assert.equal(l.type, 'APP');
      assert.ok(!Number.isNaN(Date.parse(l.time!)), 'each line has a time');
    }
    assert.match(ota[1]!.error!, /exited with code 1/);
    const inspect = await (await clientAs(wd, 'steady')).inspect();
    assert.match(inspect.error ?? '', /exited with code 1/, 'inspect reports the error');
  } finally {
    await m.stop();
  }
});

test('an image with no program rolls back; an OTA by path is applied in the background and logged in ota.log', async () => {
  const wd = makeWorkdir([{ name: 'steady' }]);
  const m = await startMaster(wd);
  const api = cliClient(wd, 120_000);
  try {
    const app = readApp(wd);
    app.services.push({ name: 'ghost', image: 'no-such-image', replica: 1, env: {}, mounts: [] });
    writeFileSync(join(wd.dir, 'ghost.yml'), stringify(app));
    const cli = await runBaetyl(['update', '-w', wd.dir, join(wd.dir, 'ghost.yml')]);
    assert.equal(cli.code, 1);
    assert.match(cli.stdout, /^started: ghost$/m);
    assert.match(cli.stdout, /^outcome: rolled back to app version \(v7\)/m);
    assert.match(cli.stdout, /service \(ghost\) failed to start: .*no-such-image/);

    // v1's agent: the request is answered at once, progress goes to ota.log.
    const ok = readApp(wd);
    ok.version = 'v10';
    ok.services[0]!.env.NEW = '1';
    writeFileSync(join(wd.dir, 'v10.yml'), stringify(ok));
    await api.request('PUT', '/system/update', { type: 'APP', file: 'v10.yml', trace: 'abc' });
    await waitFor('the update to finish', () => otaLines(wd).some((l) => l.step === 'UPDATED'));
    const last = otaLines(wd).slice(-2);
    assert.deepEqual(
      last.map((l) => [l.step, l.trace, l.msg]),
      [
        ['UPDATING', 'abc', 'app is updating'],
        ['UPDATED', 'abc', 'app is updated'],
      ],
    );
    assert.equal((await instanceEnv(wd, 'steady')).env.NEW, '1');
    assert.equal((await api.inspect()).software.conf_version, 'v10');

    await assert.rejects(api.request('PUT', '/system/update', { type: 'MST', path: 'bin/baetyl' }), /400 type MST .*install\.sh/);
  } finally {
    api.close();
    await m.stop();
  }
});
