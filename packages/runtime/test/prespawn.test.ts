// A node85 instance starts its first worker thread before loading its own modules and config
// (host/prespawn.ts): that early worker must be the one that serves, and must not outlive a host
// that fails to start. Workers are threads, named by their thread id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, realpathSync } from 'node:fs';
import { SAYJS_CONF } from './fixtures.js';
import { waitFor } from '@baetyl/test-support';
import { call, childrenOf, cleanup, failedStart, message, serviceDir, startRuntimeProcess } from './helpers.js';

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

// Answers with the worker's thread id.
const WHO_JS = "const { threadId } = require('worker_threads');\nexports.handler = (e, c, cb) => cb(null, { Say: 'Hello Baetyl', thread: threadId });\n";

const threadOf = (r: { res?: { Payload: Buffer } }) => (JSON.parse(r.res!.Payload.toString()) as { thread: number }).thread;

test('node85: the worker started early is the one that serves, and no second one is started', async () => {
  const dir = serviceDir({ 'etc/baetyl/service.yml': SAYJS_CONF, 'var/db/baetyl/function-sayhi/index.js': WHO_JS });
  const rt = await startRuntimeProcess('node85', dir);
  try {
    assert.deepEqual(childrenOf(rt.child.pid!), [], 'the worker is a thread, not a process');
    const first = await call(rt.client, message('node85-sayhi', '{"id":1}'));
    assert.equal(first.err, undefined);
    assert.match(first.res!.Payload.toString(), /"Say":"Hello Baetyl"/);
    // Thread ids count from 1 in each process, in start order: the config loader is thread 1
    // (config/off-thread.ts), the early worker thread 2; a worker started later would be 3.
    assert.equal(threadOf(first), 2, 'the early worker served the call');
    const again = await call(rt.client, message('node85-sayhi', '{"id":2}'));
    assert.equal(threadOf(again), 2, 'the same worker served the next call');
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
