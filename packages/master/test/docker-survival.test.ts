// Survival in docker mode: a killed container is restarted by its service's policy, a crash's
// output reaches the master log, and a master killed with SIGKILL and started again leaves no
// duplicate or orphan containers (and never touches another workdir's).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMaster, type Workdir } from './helpers.js';
import {
  containersOf,
  docker,
  dockerSkipReason,
  ensureTestImage,
  makeDockerWorkdir,
  nameOf,
  probe,
  removeContainersOf,
  startCount,
  TEST_IMAGE,
  uniq,
} from './docker-helpers.js';
import { waitFor } from '@baetyl/test-support';

const skip = await dockerSkipReason();
if (!skip) await ensureTestImage();
const workdirs: Workdir[] = [];
after(async () => {
  if (!skip) for (const wd of workdirs) await removeContainersOf(wd.dir);
});

const fast = { backoff: { min: '1s', max: '2s' } };

test('a killed container is restarted by its policy; a crash shows its stderr in the master log', { skip }, async () => {
  const p = uniq();
  const wd = makeDockerWorkdir([
    { name: `${p}-always`, restart: { policy: 'always', ...fast } },
    { name: `${p}-never`, restart: { policy: 'no' } },
    { name: `${p}-crash`, env: { EXIT_CODE: '3', EXIT_AFTER: '300' }, restart: { policy: 'on-failure', retry: { max: 1 }, ...fast } },
  ]);
  workdirs.push(wd);
  const m = await startMaster(wd);
  try {
    await probe(wd, `${p}-always`);
    await probe(wd, `${p}-never`);
    const before = (await docker.getContainer(`${p}-always`).inspect()).Id;
    await docker.getContainer(`${p}-always`).kill();
    await docker.getContainer(`${p}-never`).kill();
    await waitFor('the killed container to be started again', () => startCount(wd, `${p}-always`) === 2);
    const now = (await docker.getContainer(`${p}-always`).inspect()).Id;
    assert.notEqual(now, before);
    // The crashing one: started twice (1 restart allowed), its stderr in baetyl.log, then given up.
    await waitFor('the crashing service to be given up', () => m.log().includes('retry too much'));
    assert.equal(startCount(wd, `${p}-crash`), 2);
    assert.match(m.log(), new RegExp(`level=error msg="instance \\(${p}-crash\\) ${p}-crash exits with 3"`));
    assert.match(m.log(), new RegExp(`level=error msg="instance \\(${p}-crash\\) hello from ${p}-crash"`));
    // Policy `no`: not restarted. Nothing exited is left behind.
    await waitFor('only the restarted container to remain', async () => (await containersOf(wd.dir)).map(nameOf).sort().join() === `${p}-always`);
    assert.equal(startCount(wd, `${p}-never`), 1);
  } finally {
    await m.stop();
  }
  assert.equal((await containersOf(wd.dir)).length, 0);
});

test('SIGKILL of the master, then a new start: no duplicate or orphan containers, strangers untouched', { skip }, async () => {
  const p = uniq();
  const wd = makeDockerWorkdir([{ name: `${p}-a`, replica: 2 }, { name: `${p}-b` }, { name: `${p}-fn`, replica: 0 }]);
  workdirs.push(wd);
  // A container of another workdir's master, and one that is not Baetyl's at all.
  const strangers = await Promise.all(
    (
      [
        { name: `${p}-other`, Labels: { baetyl: 'baetyl', service: 'x', instance: `${p}-other`, 'baetyl.workdir': '/somewhere/else' } },
        { name: `${p}-plain`, Labels: {} },
      ] as Array<{ name: string; Labels: Record<string, string> }>
    ).map(async (s) => {
      const c: Awaited<ReturnType<typeof docker.createContainer>> = await docker.createContainer({
        name: s.name,
        Image: TEST_IMAGE,
        Labels: s.Labels,
        Env: ['OUT=/tmp', `BAETYL_SERVICE_INSTANCE_NAME=${s.name}`],
      });
      await c.start();
      return c;
    }),
  );
  try {
    const m = await startMaster(wd);
    await probe(wd, `${p}-a.i1`);
    await probe(wd, `${p}-b`);
    const first = (await containersOf(wd.dir)).map((c) => c.Id);
    assert.equal(first.length, 3);
    m.child.kill('SIGKILL');
    await m.exited;
    // The containers outlive the master (the hub keeps serving) until the next master starts.
    assert.equal((await containersOf(wd.dir)).filter((c) => c.State === 'running').length, 3);

    const again = await startMaster(wd);
    try {
      await waitFor('the second start', () => startCount(wd, `${p}-a.i1`) === 2 && startCount(wd, `${p}-b`) === 2);
      const now = await containersOf(wd.dir);
      assert.deepEqual(now.map(nameOf).sort(), [`${p}-a`, `${p}-a.i1`, `${p}-b`]);
      assert.ok(
        now.every((c) => !first.includes(c.Id)),
        'every old container was removed',
      );
      assert.match(again.log(), /level=warn msg="removed 3 (instance|container)\(s\) left/);
      for (const s of strangers) assert.equal((await s.inspect()).State.Running, true, 'a stranger is left alone');
    } finally {
      await again.stop();
    }
    assert.equal((await containersOf(wd.dir)).length, 0);
  } finally {
    for (const s of strangers) await s.remove({ force: true }).catch(() => undefined);
  }
});
