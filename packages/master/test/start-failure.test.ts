import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inspect } from '@baetyl/core';
import { cliClient, makeWorkdir, runBaetyl, startMaster, starts, statusOf, type Workdir } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

/** A package whose program cannot be spawned: its interpreter does not exist (ENOENT). */
function brokenPackage(wd: Workdir, name: string): string {
  const dir = join(wd.dir, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.yml'), 'entry: bin/program.js\n');
  writeFileSync(join(dir, 'bin/program.js'), '#!/no/such/interpreter\n', { mode: 0o755 });
  return dir;
}

const failures = (log: string, instance: string) => log.match(new RegExp(`msg="failed to start instance: [^\\n]* instance=${instance} `, 'g'))?.length ?? 0;

function instanceOf(doc: Inspect, name: string) {
  return doc.services.find((s) => s.name === name)?.instances.find((i) => i.name === name);
}

test('a failed start shows in status with its reason and next start, and is retried by the restart policy', async () => {
  const mount = (vol: string) => [{ name: vol, path: 'lib/baetyl/test-program', readonly: true }];
  const wd = makeWorkdir(
    [
      // Fails its first two starts, then the test repairs its program and it runs.
      { name: 'flaky', mounts: mount('flaky-pkg'), restart: { policy: 'always', backoff: { min: '3s', max: '3s', factor: 1 } } },
      { name: 'capped', mounts: mount('capped-pkg'), restart: { policy: 'on-failure', retry: { max: 1 }, backoff: { min: '1s', max: '1s' } } },
      { name: 'once', mounts: mount('once-pkg'), restart: { policy: 'no' } },
      { name: 'fine' },
    ],
    {},
    [
      { name: 'flaky-pkg', path: 'flaky-pkg' },
      { name: 'capped-pkg', path: 'capped-pkg' },
      { name: 'once-pkg', path: 'once-pkg' },
    ],
  );
  const flaky = brokenPackage(wd, 'flaky-pkg');
  brokenPackage(wd, 'capped-pkg');
  brokenPackage(wd, 'once-pkg');
  const m = await startMaster(wd);
  const api = cliClient(wd);
  try {
    assert.match(m.log(), /level=warn msg="services started, but 3 instance\(s\) did not start \(flaky, capped, once\): \\"baetyl status\\" says why"/);
    await waitFor('the second failed start of flaky', () => failures(m.log(), 'flaky') === 2);
    // Between the attempts: restarting, why, and when the next one is.
    const doc = await api.inspect();
    const inst = instanceOf(doc, 'flaky')!;
    assert.equal(inst.status, 'restarting');
    assert.equal(inst.restarts, 2);
    assert.match(
      inst.error ?? '',
      /^failed to start: cannot run .*program\.js .* for instance flaky: spawn .* ENOENT \(the file exists: the interpreter its first line names is missing\)$/,
    );
    assert.ok(inst.next_start && Date.parse(inst.next_start) > Date.parse(doc.time) - 1000, `next_start ${inst.next_start}`);
    const st = await runBaetyl(['status', '-w', wd.dir]);
    assert.match(st.stdout, /^flaky\s+flaky\s+restarting\s+-\s+-\s+2\b/m, st.stdout);
    assert.match(st.stdout, /^flaky: restarting: failed to start: cannot run .* ENOENT \(.*\); next start in \d+s$/m, st.stdout);

    // Repaired before the third attempt: it starts and runs, and the error is gone.
    copyFileSync(join(wd.dir, 'pkg/bin/program.js'), join(flaky, 'bin/program.js'));
    await waitFor('flaky to run', () => starts(wd).some((s) => s.service === 'flaky'));
    assert.equal(failures(m.log(), 'flaky'), 2, 'two failed starts, then one that worked');
    await waitFor('flaky to be running', async () => instanceOf(await api.inspect(), 'flaky')?.status === 'running');
    const running = instanceOf(await api.inspect(), 'flaky')!;
    assert.equal(running.error, undefined);
    assert.equal(running.next_start, undefined);

    // retry.max 1: the first attempt and one restart, then failed with the reason.
    await waitFor('capped to give up', async () => (await statusOf(wd, 'capped')) === 'failed');
    // The log says so too (it reaches the file a moment after the state changes).
    await waitFor('the give-up line of capped', () => m.log().includes('retry too much (1), giving up" baetyl=master engine=native instance=capped'));
    assert.equal(failures(m.log(), 'capped'), 2);
    // policy no: one attempt.
    assert.equal(failures(m.log(), 'once'), 1);
    assert.match(m.log(), /msg="failed to start instance: .*ENOENT \(.*\); its restart policy \(no\) does not restart it" .*instance=once /);
    const end = await runBaetyl(['status', '-w', wd.dir]);
    assert.match(end.stdout, /^flaky\s+flaky\s+running\s+\d+\s+\S+\s+2\b/m, end.stdout);
    assert.match(end.stdout, /^capped\s+capped\s+failed\s+-\s+-\s+1\b/m);
    assert.match(end.stdout, /^capped: failed: failed to start: cannot run .* ENOENT \(.*\); given up after 1 restart\(s\) \(retry\.max 1\)$/m);
    assert.match(end.stdout, /^once\s+once\s+failed\s+-\s+-\s+0\b/m);
    assert.match(end.stdout, /^once: failed: failed to start: cannot run .* ENOENT \(.*\)$/m);
    assert.match(end.stdout, /^fine\s+fine\s+running\b/m, 'the other service runs throughout');
    assert.doesNotMatch(end.stdout, /^flaky:/m, 'no reason is shown for a running instance');
  } finally {
    api.close();
    await m.stop();
  }
});

test("a dead instance's last output is copied into baetyl.log at each line's own level, naming the instance", async () => {
  const output = [
    'time="2026-01-01T00:00:00Z" level=debug msg="client connected" client=c1',
    '{"level":"warning","msg":"a JSON warning"}',
    '    a continuation of the warning',
    'time="2026-01-01T00:00:01Z" level=info msg="closing"',
  ].join('\n');
  const wd = makeWorkdir([{ name: 'talker', env: { EXIT_CODE: '1', EXIT_AFTER: '300', OUTPUT: output }, restart: { policy: 'no' } }]);
  const m = await startMaster(wd);
  try {
    await waitFor('the copy of its output', () => m.log().includes('talker exits with 1'));
    const copied = m
      .log()
      .split('\n')
      .filter((l) => l.includes('msg="instance (talker) '))
      .map((l) => [/^time=\S+ level=(\w+) /.exec(l)?.[1], /msg="instance \(talker\) ((?:[^"\\]|\\.)*)"/.exec(l)?.[1], /instance=talker\b/.test(l)]);
    assert.deepEqual(copied, [
      // Before any line names a level: error, as for any output of a crashed program.
      ['error', 'hello from talker', true],
      ['debug', 'time=\\"2026-01-01T00:00:00Z\\" level=debug msg=\\"client connected\\" client=c1', true],
      ['warn', '{\\"level\\":\\"warning\\",\\"msg\\":\\"a JSON warning\\"}', true],
      ['warn', '    a continuation of the warning', true],
      ['info', 'time=\\"2026-01-01T00:00:01Z\\" level=info msg=\\"closing\\"', true],
      // A line with no level keeps the level of the line before it.
      ['info', 'talker exits with 1', true],
    ]);
  } finally {
    await m.stop();
  }
});
