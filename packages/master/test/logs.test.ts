// `baetyl logs` in native mode: services that log through core's logger where their service.yml
// says, under a real master; -n, -f across rotation, truncation, restarts and new instances; the
// errors for a name that is not there and for a service that keeps no log file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { BAETYL, makeWorkdir, runBaetyl, startMaster, type Workdir } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

const LOG_PROGRAM = fileURLToPath(new URL('../../test/fixtures/log-program.js', import.meta.url));

interface LogService {
  name: string;
  replica?: number;
  /** Where its service.yml puts the log; undefined: no logger block. */
  logPath?: string;
  /** Mount a log volume at var/log/baetyl. */
  logVolume?: boolean;
  env?: Record<string, string>;
}

/** A workdir whose services run fixtures/log-program.js (its package: a link, so it finds its modules). */
function logWorkdir(services: LogService[]): Workdir {
  const wd = makeWorkdir([]);
  const pkg = join(wd.dir, 'logpkg');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  symlinkSync(LOG_PROGRAM, join(pkg, 'bin/log-program.js'));
  writeFileSync(join(pkg, 'package.yml'), 'entry: bin/log-program.js\n');
  const volumes = [{ name: 'logpkg', path: 'logpkg' }];
  const app = {
    version: 'v1',
    services: services.map((s) => {
      const conf = `var/db/baetyl/${s.name}-conf`;
      mkdirSync(join(wd.dir, conf), { recursive: true });
      writeFileSync(join(wd.dir, conf, 'service.yml'), stringify(s.logPath ? { logger: { path: s.logPath, level: 'info' } } : {}));
      volumes.push({ name: `${s.name}-conf`, path: conf });
      const mounts = [
        { name: 'logpkg', path: 'lib/baetyl/log-program', readonly: true },
        { name: `${s.name}-conf`, path: 'etc/baetyl', readonly: true },
      ];
      if (s.logVolume) {
        volumes.push({ name: `${s.name}-log`, path: `var/db/baetyl/${s.name}-log` });
        mounts.push({ name: `${s.name}-log`, path: 'var/log/baetyl', readonly: false });
      }
      return {
        name: s.name,
        image: 'log-program',
        replica: s.replica ?? 1,
        mounts,
        env: s.env ?? {},
        restart: { policy: 'always', backoff: { min: '100ms', max: '200ms' } },
      };
    }),
    volumes,
  };
  writeFileSync(join(wd.dir, 'var/db/baetyl/application.yml'), stringify(app));
  return wd;
}

/** `baetyl logs -f ...` running; `out()` is what it printed so far. */
function follow(args: string[]) {
  const child = spawn(process.execPath, [BAETYL, 'logs', '-f', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return {
    out: () => out,
    err: () => err,
    stop: () => {
      child.kill('SIGTERM');
      return new Promise((r) => child.once('exit', r));
    },
  };
}

const lines = (text: string) => text.split('\n').filter(Boolean);

test('baetyl logs SERVICE: the log file its service.yml names in its volume, every instance prefixed; an instance alone; -n', async () => {
  const wd = logWorkdir([{ name: 'svc', replica: 2, logPath: 'var/log/baetyl/service.log', logVolume: true }]);
  const m = await startMaster(wd);
  try {
    const file = join(wd.dir, 'var/db/baetyl/svc-log/service.log');
    await waitFor(`both instances' ticks in ${file}`, async () => {
      const r = await runBaetyl(['logs', '-n', 'all', 'svc', '-w', wd.dir]);
      return /^svc \| .*msg="tick 3"/m.test(r.stdout) && /^svc\.i1 \| .*msg="tick 3" instance=svc\.i1/m.test(r.stdout);
    });
    const all = await runBaetyl(['logs', '-n', 'all', 'svc', '-w', wd.dir]);
    // An `instance` field naming another service's instance does not make it that instance's line.
    assert.match(all.stdout, /^svc \| .*msg="about another instance" instance=other\.fn\.1 service=svc$/m);
    assert.doesNotMatch(all.stdout, /^other/m);
    const r = await runBaetyl(['logs', 'svc', '-w', wd.dir]);
    assert.equal(r.code, 0, r.stderr);
    // Ten lines by default, as tail prints, each prefixed with its instance.
    assert.equal(lines(r.stdout).length, 10, r.stdout);
    for (const l of lines(r.stdout)) assert.match(l, /^(svc|svc\.i1) \| time=\S+ level=info msg="(started|about another instance|tick \d+)"/);

    const three = await runBaetyl(['logs', '-n', '3', 'svc.i1', '-w', wd.dir]);
    assert.equal(three.code, 0, three.stderr);
    assert.equal(lines(three.stdout).length, 3, three.stdout);
    for (const l of lines(three.stdout)) assert.match(l, /^svc\.i1 \| .*instance=svc\.i1 service=svc$/);

    // The master's own log, with no name: not prefixed.
    const master = await runBaetyl(['logs', '-n', 'all', '-w', wd.dir]);
    assert.match(master.stdout, /^time=\S+ level=info msg="services started"/m);
  } finally {
    await m.stop();
  }
});

test('baetyl logs -f follows a file across appends, rotation, truncation and removal', async () => {
  const wd = makeWorkdir([]);
  writeFileSync(join(wd.dir, 'etc/baetyl/conf.yml'), stringify({ mode: 'native', logger: { path: 'var/log/master.log' } }));
  const file = join(wd.dir, 'var/log/master.log');
  mkdirSync(join(wd.dir, 'var/log'), { recursive: true });
  writeFileSync(file, 'one\ntwo\nthree\n');
  const f = follow(['-n', '2', '-w', wd.dir]);
  try {
    await waitFor(`the last two lines (got ${JSON.stringify(f.out())}, stderr ${f.err()})`, () => f.out() === 'two\nthree\n');
    appendFileSync(file, 'four\n');
    await waitFor('an appended line', () => f.out().endsWith('three\nfour\n'));
    // Rotation: a last line in the old file, then the new file.
    appendFileSync(file, 'five\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'six\n');
    await waitFor(`the rotated file's last line, then the new file (got ${JSON.stringify(f.out())})`, () => f.out().endsWith('four\nfive\nsix\n'));
    // Truncated in place, then written again.
    truncateSync(file, 0);
    await new Promise((r) => setTimeout(r, 600));
    appendFileSync(file, 'seven\n');
    await waitFor(`the truncated file read again from its start (got ${JSON.stringify(f.out())})`, () => f.out().endsWith('six\nseven\n'));
    // Removed, then made again.
    renameSync(file, `${file}.2`);
    await new Promise((r) => setTimeout(r, 600));
    writeFileSync(file, 'eight\n');
    await waitFor(`the file made again (got ${JSON.stringify(f.out())})`, () => f.out().endsWith('seven\neight\n'));
    assert.equal(f.out(), 'two\nthree\nfour\nfive\nsix\nseven\neight\n');
  } finally {
    await f.stop();
  }
});

test('baetyl logs -f SERVICE with a log in each instance dir: instances that appear later, and restarts', async () => {
  // No log volume: the log is in the instance's own dir, made anew at each start.
  const wd = logWorkdir([{ name: 'crashy', replica: 2, logPath: 'var/log/baetyl/service.log', env: { EXIT_AFTER: '1500' } }]);
  // Started before the master: every instance dir appears while it follows.
  const f = follow(['crashy', '-w', wd.dir]);
  const m = await startMaster(wd);
  try {
    const startsOf = (inst: string) =>
      new Set([...f.out().matchAll(new RegExp(`^${inst.replace('.', '\\.')} \\| .*msg=started .*pid=(\\d+)`, 'gm'))].map((x) => x[1]));
    await waitFor(
      `two runs of each instance (got:\n${f.out()}\nstderr: ${f.err()})`,
      () => startsOf('crashy').size >= 2 && startsOf('crashy.i1').size >= 2,
      90_000,
    );
    assert.match(f.out(), /^crashy\.i1 \| .*msg="tick 1" instance=crashy\.i1/m);
  } finally {
    await f.stop();
    await m.stop();
  }
});

test('baetyl logs NAME: a clear error for a name that is not there, and for a service with no log file', async () => {
  const wd = logWorkdir([
    { name: 'quiet', replica: 1 },
    { name: 'loud', replica: 2, logPath: 'var/log/baetyl/service.log', logVolume: true },
  ]);
  const r = await runBaetyl(['logs', 'nosuch', '-w', wd.dir]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no service or instance named "nosuch" in .*application\.yml: services: quiet, loud; instances: loud\.i1/);
  const q = await runBaetyl(['logs', 'quiet', '-w', wd.dir]);
  assert.equal(q.code, 1);
  assert.match(
    q.stderr,
    /service quiet writes no log file: .*quiet-conf\/service\.yml sets no logger\.path.*add "logger: \{path: var\/log\/baetyl\/service\.log\}"/,
  );
  const bad = await runBaetyl(['logs', '-n', 'lots', 'loud', '-w', wd.dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /-n needs a number of lines \(or all\), not "lots"/);
  const notHere = await runBaetyl(['status', '-f', '-w', wd.dir]);
  assert.match(notHere.stderr, /-f is a flag of "baetyl logs", not of "baetyl status"/);
});

test('baetyl status --json: the table as JSON', async () => {
  const wd = logWorkdir([{ name: 'svc', replica: 2, logPath: 'var/log/baetyl/service.log', logVolume: true }]);
  const m = await startMaster(wd);
  try {
    const r = await runBaetyl(['status', '--json', '-w', wd.dir]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as {
      baetyl: { mode: string; pid: number; workdir: string; app_version: string; uptime_s: number };
      services: Array<{
        name: string;
        instances: Array<{ name: string; state: string; pid: number; restarts: number; uptime_s: number; error: null; container: null }>;
      }>;
    };
    assert.equal(s.baetyl.mode, 'native');
    assert.equal(s.baetyl.pid, m.child.pid);
    assert.equal(s.baetyl.app_version, 'v1');
    assert.equal(typeof s.baetyl.uptime_s, 'number');
    assert.deepEqual(
      s.services.map((x) => x.name),
      ['svc'],
    );
    const insts = s.services[0]!.instances;
    assert.deepEqual(
      insts.map((i) => i.name),
      ['svc', 'svc.i1'],
    );
    for (const i of insts) {
      assert.equal(i.state, 'running');
      assert.ok(Number.isInteger(i.pid) && i.pid > 0);
      assert.equal(i.restarts, 0);
      assert.equal(i.error, null);
      assert.equal(i.container, null);
      assert.equal(typeof i.uptime_s, 'number');
    }
    // The same instances and pids as the table.
    const table = await runBaetyl(['status', '-w', wd.dir]);
    for (const i of insts) assert.match(table.stdout, new RegExp(`^svc\\s+${i.name.replace('.', '\\.')}\\s+running\\s+${i.pid}\\s`, 'm'));
  } finally {
    await m.stop();
  }
});
