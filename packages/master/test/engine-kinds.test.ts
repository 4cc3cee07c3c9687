// The engines behind the master: one registered for every mode conf.yml admits, each with its
// own rules; the records application.stats keeps, read back by the engine that wrote them; and
// the API's stop request, which the master hands to whoever runs it instead of exiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasterClient } from '@baetyl/core';
import { masterConfigSchema } from '../src/conf/schema.js';
import { engineOf } from '../src/engine/engines.js';
import { containerIdOf, describeContainer } from '../src/engine/docker/record.js';
import { describeProcess, processOf } from '../src/engine/native/record.js';
import { Master } from '../src/master/master.js';
import { readRecords } from '../src/stats/store.js';
import { CLI_TOKEN_FILE } from '../src/workdir/paths.js';
import { makeWorkdir } from './helpers.js';

const MODES = (masterConfigSchema.properties as { mode: { enum: string[] } }).mode.enum;

test('every mode conf.yml admits has an engine, registered by that mode', () => {
  assert.ok(MODES.includes('native') && MODES.includes('docker'), 'the schema lists the modes');
  for (const mode of MODES) assert.equal(engineOf({ mode: mode as 'native' }).mode, mode);
});

test('each engine says how its instances dial the master API (Baetyl v1 §1.4)', () => {
  const native = engineOf({ mode: 'native' });
  const docker = engineOf({ mode: 'docker' });
  // Native: the socket is linked into the instance's directory; tcp is the host's own.
  assert.equal(native.instanceApiAddress('unix:///abs/var/run/baetyl.sock'), 'unix://var/run/baetyl.sock');
  assert.equal(native.instanceApiAddress('tcp://127.0.0.1:50050'), 'tcp://127.0.0.1:50050');
  // Docker: the socket is bound at /var/run/baetyl.sock; tcp goes to the host by its docker name.
  assert.equal(docker.instanceApiAddress('unix:///abs/var/run/baetyl.sock'), 'unix:///var/run/baetyl.sock');
  assert.equal(docker.instanceApiAddress('tcp://127.0.0.1:50050'), 'tcp://host.docker.internal:50050');
  // A native instance inherits the master's environment; a container nothing of it.
  assert.equal(native.inheritedEnv().PATH, process.env.PATH);
  assert.deepEqual(docker.inheritedEnv(), {});
});

test('an application.stats written by an earlier master is read back, each engine taking its own records', () => {
  const wd = makeWorkdir([]);
  const file = join(wd.dir, 'var/db/baetyl/application.stats');
  // The form every earlier master wrote: the engine's keys beside status and restarts.
  writeFileSync(
    file,
    [
      'hub:',
      '  hub:',
      '    status: running',
      '    start_time: 2026-01-01T00:00:00.000Z',
      '    restarts: 0',
      '    process:',
      '      id: 4242',
      '      name: hub',
      '      pgid: 4242',
      '      start_ticks: 123456',
      'manager:',
      '  manager:',
      '    status: running',
      '    restarts: 2',
      '    container:',
      '      id: 0123456789abcdef0123',
      '      name: manager',
      '  manager.i1:',
      '    status: restarting',
      '    restarts: 1',
      '',
    ].join('\n'),
  );
  const records = readRecords(file);
  assert.deepEqual(records.map(processOf).filter(Boolean), [{ id: 4242, name: 'hub', pgid: 4242, start_ticks: 123456 }]);
  assert.deepEqual(records.map(containerIdOf).filter(Boolean), ['0123456789abcdef0123']);
  // What the engines write now has the same form.
  assert.deepEqual(describeProcess('hub', 4242, 123456).record, { process: { id: 4242, name: 'hub', pgid: 4242, start_ticks: 123456 } });
  assert.deepEqual(describeContainer('manager', '0123456789abcdef0123').record, { container: { id: '0123456789abcdef0123', name: 'manager' } });
  // And inspect shows what it showed: the process without its group, the container whole.
  assert.deepEqual(describeProcess('hub', 4242, 123456).inspect, { process: { id: 4242, name: 'hub' } });
  assert.deepEqual(describeContainer('manager', '0123456789abcdef0123').inspect, { container: { id: '0123456789abcdef0123', name: 'manager' } });
});

test('PUT /system/stop is handed to whoever runs the master, which keeps running until it is stopped', { timeout: 60_000 }, async () => {
  const wd = makeWorkdir([]);
  let asked!: () => void;
  const stopRequested = new Promise<void>((r) => (asked = r));
  const master = new Master({ workdir: wd.dir, stderr: false, onStopRequest: () => asked() });
  await master.start();
  const client = new MasterClient({
    address: master.conf.server.address,
    username: '@cli',
    password: readFileSync(join(wd.dir, CLI_TOKEN_FILE), 'utf8'),
    timeout: 10_000,
  });
  try {
    await client.request('PUT', '/system/stop');
    await stopRequested;
    // Still serving: the request was answered, and the stop is its runner's to make.
    const inspect = await client.inspect();
    assert.equal((inspect.software as Record<string, string>).pid, String(process.pid));
  } finally {
    client.close();
    await master.stop();
  }
});
