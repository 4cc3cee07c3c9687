import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../src/supervisor/backoff.js';
import { makeWorkdir, runBaetyl, startMaster, starts, statusOf } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

const fast = { min: '1s', max: '4s', factor: 2 };

function delays(log: string, instance: string): number[] {
  return [...log.matchAll(new RegExp(`msg="instance will restart in (\\d+) ms[^"]*" .*instance=${instance.replace('.', '\\.')} `, 'g'))].map((x) =>
    Number(x[1]),
  );
}

test('a crashing service is restarted with growing backoff, and given up after retry.max', async () => {
  const wd = makeWorkdir([{ name: 'crasher', env: { EXIT_CODE: '3' }, restart: { policy: 'always', retry: { max: 2 }, backoff: fast } }, { name: 'steady' }]);
  const m = await startMaster(wd);
  try {
    await waitFor('the supervisor to give up', async () => (await statusOf(wd, 'crasher')) === 'failed', 90_000);
    // The log says so too (it reaches the file a moment after the state changes).
    await waitFor('the give-up line', () => /level=error msg="retry too much \(2\), giving up" .*instance=crasher/.test(m.log()));
    const runs = starts(wd).filter((s) => s.service === 'crasher');
    assert.equal(runs.length, 3, 'the first run and two restarts');
    const d = delays(m.log(), 'crasher');
    assert.equal(d.length, 2);
    // 1s then 2s, each within +/-20% jitter and never below min.
    assert.ok(d[0]! >= 1000 && d[0]! <= 1200, `first delay ${d[0]}`);
    assert.ok(d[1]! >= 1600 && d[1]! <= 2400, `second delay ${d[1]}`);
    assert.match(m.log(), /level=error msg="retry too much \(2\), giving up" .*instance=crasher/);
    // What the instance wrote before dying reaches baetyl.log.
    assert.match(m.log(), /level=error msg="instance \(crasher\) crasher exits with 3"/);
    const st = await runBaetyl(['status', '-w', wd.dir]);
    assert.match(st.stdout, /^crasher\s+crasher\s+failed\s+-\s+-\s+2\b/m, st.stdout);
    assert.match(st.stdout, /^crasher: failed: exited with code 3; given up after 2 restart\(s\) \(retry\.max 2\)$/m);
    assert.match(st.stdout, /^steady\s+steady\s+running/m, 'the other service keeps running');
  } finally {
    await m.stop();
  }
});

test('on-failure does not restart a clean exit, always does, no never does', async () => {
  const wd = makeWorkdir([
    { name: 'onfail-ok', env: { EXIT_CODE: '0' }, restart: { policy: 'on-failure', backoff: fast } },
    { name: 'onfail-bad', env: { EXIT_CODE: '1' }, restart: { policy: 'on-failure', retry: { max: 1 }, backoff: fast } },
    { name: 'always-ok', env: { EXIT_CODE: '0' }, restart: { policy: 'always', retry: { max: 1 }, backoff: fast } },
    { name: 'never', env: { EXIT_CODE: '1' }, restart: { policy: 'no' } },
  ]);
  const m = await startMaster(wd);
  try {
    const count = (svc: string) => starts(wd).filter((s) => s.service === svc).length;
    await waitFor('the restarts', () => count('onfail-bad') === 2 && count('always-ok') === 2, 90_000);
    await waitFor('both to give up', async () => (await statusOf(wd, 'onfail-bad')) === 'failed' && (await statusOf(wd, 'always-ok')) === 'failed', 90_000);
    await waitFor('never to end', async () => (await statusOf(wd, 'never')) === 'exited');
    await waitFor(
      'the two give-up lines and the end of never',
      () =>
        (m.log().match(/retry too much/g) ?? []).length === 2 &&
        m.log().includes('its restart policy does not restart it" baetyl=master engine=native instance=never'),
    );
    assert.equal(count('onfail-ok'), 1, 'on-failure: exit 0 is not restarted');
    assert.equal(count('never'), 1, 'no: not restarted');
    assert.equal(count('onfail-bad'), 2, 'on-failure: exit 1 is restarted');
    assert.equal(count('always-ok'), 2, 'always: exit 0 is restarted');
    assert.match(m.log(), /msg="instance exited and its restart policy does not restart it" .*instance=onfail-ok .*policy=on-failure/);
  } finally {
    await m.stop();
  }
});

test('the backoff starts again at min after a healthy run', async () => {
  // Runs 1.5 s, then crashes. With reset 1s each run counts as healthy; with 1m none does.
  const wd = makeWorkdir([
    { name: 'healthy', env: { EXIT_CODE: '1', EXIT_AFTER: '1500' }, restart: { retry: { max: 3 }, backoff: { ...fast, reset: '1s' } } },
    { name: 'unhealthy', env: { EXIT_CODE: '1', EXIT_AFTER: '1500' }, restart: { retry: { max: 3 }, backoff: { ...fast, reset: '1m' } } },
  ]);
  const m = await startMaster(wd);
  try {
    await waitFor('three restarts each', () => delays(m.log(), 'healthy').length >= 3 && delays(m.log(), 'unhealthy').length >= 3, 120_000);
    for (const d of delays(m.log(), 'healthy').slice(0, 3)) assert.ok(d <= 1200, `healthy delays stay near min: ${d}`);
    const u = delays(m.log(), 'unhealthy');
    assert.ok(u[2]! >= 3200, `unhealthy delays grow: ${u.join(', ')}`);
  } finally {
    await m.stop();
  }
});

test('Backoff: exponential, capped, jittered within [min, max], reset', () => {
  const b = new Backoff({ min: 1000, max: 5000, factor: 2, reset: 60_000 }, () => 0.5);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 5000, 5000]);
  b.reset();
  assert.equal(b.next(), 1000);
  const low = new Backoff({ min: 1000, max: 5000, factor: 2, reset: 0 }, () => 0);
  assert.equal(low.next(), 1000, 'jitter never goes below min');
  const high = new Backoff({ min: 1000, max: 5000, factor: 2, reset: 0 }, () => 0.999);
  high.next();
  assert.ok(high.next() > 2000);
});
