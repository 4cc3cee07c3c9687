import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { alive, makeWorkdir, startMaster, starts } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

function startTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
}

test('SIGKILL of the master leaves no orphans, and the next start runs cleanly', async () => {
  const wd = makeWorkdir([{ name: 'a', replica: 2, env: { CHILD: '1' } }, { name: 'b' }]);
  const m = await startMaster(wd);
  await waitFor('all instances', () => starts(wd).length === 3 && existsSync(join(wd.out, 'a.i1.child.pid')) && existsSync(join(wd.out, 'a.child.pid')));
  const pids = [...starts(wd).map((s) => s.pid), ...['a', 'a.i1'].map((i) => Number(readFileSync(join(wd.out, `${i}.child.pid`), 'utf8')))];
  m.child.kill('SIGKILL');
  await m.exited;
  await waitFor('every instance and child to be gone', () => pids.every((p) => !alive(p)));

  const again = await startMaster(wd);
  try {
    await waitFor('the second start', () => starts(wd).length === 6);
    const second = starts(wd).slice(3);
    for (const s of second) assert.ok(alive(s.pid));
  } finally {
    await again.stop();
  }
});

test('a restarted master removes the instances a previous master recorded and left running', async () => {
  const wd = makeWorkdir([{ name: 'svc' }]);
  // A process that outlived its master (as when the parent-death signal is not available):
  // its own process group, recorded in application.stats the way the master records instances.
  const orphan = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  orphan.unref();
  const pid = orphan.pid!;
  // A recorded pid that now belongs to someone else (start time differs) must be left alone.
  const bystander = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
  bystander.unref();
  writeFileSync(
    join(wd.dir, 'var/db/baetyl/application.stats'),
    stringify({
      svc: {
        svc: { status: 'running', process: { id: pid, name: 'svc', pgid: pid, start_ticks: startTicks(pid) } },
        'svc.i1': { status: 'running', process: { id: bystander.pid, name: 'svc.i1', pgid: bystander.pid, start_ticks: startTicks(bystander.pid!) - 1 } },
      },
    }),
  );
  const m = await startMaster(wd);
  try {
    await waitFor('the leftover to be removed', () => !alive(pid));
    assert.ok(alive(bystander.pid!), 'a reused pid is not killed');
    assert.match(m.log(), /level=warn msg="removed 1 instance\(s\) left running by a previous master"/);
  } finally {
    await m.stop();
    process.kill(bystander.pid!, 'SIGKILL');
  }
});
