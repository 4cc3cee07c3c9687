// A node85 instance starts its first worker before loading its own modules and config
// (host/prespawn.ts): that early worker must be the one that serves, and must not outlive a host
// that fails to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, realpathSync } from 'node:fs';
import { SAYHI_JS, SAYJS_CONF } from './fixtures.js';
import { call, childrenOf, cleanup, failedStart, message, serviceDir, startRuntimeProcess, waitFor } from './helpers.js';

/** Live processes whose working directory is `dir`. */
function processesIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return realpathSync(`/proc/${n}/cwd`) === realpathSync(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const workersOf = (pid: number) => childrenOf(pid).filter((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('worker.js'));

test('node85: the worker started early is the one that serves, and no second one is started', async () => {
  const dir = serviceDir({ 'etc/baetyl/service.yml': SAYJS_CONF, 'var/db/baetyl/function-sayhi/index.js': SAYHI_JS });
  const rt = await startRuntimeProcess('node85', dir);
  try {
    const first = workersOf(rt.child.pid!);
    assert.equal(first.length, 1, 'one worker');
    const { res, err } = await call(rt.client, message('node85-sayhi', '{"id":1}'));
    assert.equal(err, undefined);
    assert.match(res!.Payload.toString(), /"Say":"Hello Baetyl"/);
    assert.deepEqual(workersOf(rt.child.pid!), first, 'the same worker served the call');
  } finally {
    await rt.stop();
    cleanup(dir);
  }
});

test('node85: a host that cannot load its config takes its early worker with it', async () => {
  const dir = serviceDir({ 'etc/baetyl/service.yml': 'functions: [oops' });
  const { code, stderr } = await failedStart('node85', dir);
  assert.equal(code, 1);
  assert.match(stderr, /service\.yml/);
  // The early worker sees its input pipe close and exits: no process is left working in `dir`.
  await waitFor('no leftover worker', () => (processesIn(dir).length === 0 ? true : undefined), 5000);
  cleanup(dir);
});
