// The keep set on its own: which services an update keeps, stops and starts, and why; and the
// digest of read-only mounts that makes a config edited in place count as a change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppSpec, ServiceSpec } from '../src/app/model.js';
import { planUpdate, type RunningService } from '../src/update/keep-set.js';
import { mountsDigest } from '../src/update/volume-digest.js';
import { serviceSpec } from './service-spec.js';

const app = (services: ServiceSpec[]): AppSpec => ({ version: 'v2', services, volumes: {}, networks: {} });
const running = (...list: Array<[ServiceSpec, string?, boolean?]>) =>
  new Map<string, RunningService>(list.map(([s, digest = 'd', alive = true]) => [s.name, { spec: s, digest, alive }]));

test('unchanged services are kept; changed, removed and given-up ones are not, each with its reason', () => {
  const plan = planUpdate(
    running(
      [serviceSpec('same')],
      [serviceSpec('env', { env: { A: '1' } })],
      [serviceSpec('gone')],
      [serviceSpec('content')],
      [serviceSpec('dead'), 'd', false],
    ),
    app([serviceSpec('new'), serviceSpec('same'), serviceSpec('env', { env: { A: '2' } }), serviceSpec('content'), serviceSpec('dead')]),
    (s) => (s.name === 'content' ? 'changed' : 'd'),
  );
  assert.deepEqual(plan.keep, ['same']);
  assert.deepEqual(plan.stop.sort(), ['content', 'dead', 'env', 'gone']);
  assert.deepEqual(
    plan.start.map((s) => s.name),
    ['new', 'env', 'content', 'dead'],
    'in the new file order',
  );
  assert.equal(plan.reasons.env, 'its env changed');
  assert.equal(plan.reasons.gone, 'it is no longer in application.yml');
  assert.equal(plan.reasons.content, 'the content of a read-only volume it mounts changed');
  assert.equal(plan.reasons.dead, 'it has no running instance');
  assert.equal(plan.reasons.new, 'it is new');
});

test('a replica 0 service with no instance is kept; reordering the file restarts nothing', () => {
  const a = serviceSpec('a');
  const rt = serviceSpec('runtime', { replica: 0 });
  const plan = planUpdate(running([a], [rt, 'd', false]), app([rt, a]), () => 'd');
  assert.deepEqual(plan.keep, ['runtime', 'a']);
  assert.deepEqual(plan.stop, []);
});

test('the digest follows read-only mounts by content, and ignores writable ones', () => {
  const workdir = mkdtempSync(join(tmpdir(), 'baetyl-digest-'));
  mkdirSync(join(workdir, 'conf/sub'), { recursive: true });
  mkdirSync(join(workdir, 'data'));
  writeFileSync(join(workdir, 'conf/service.yml'), 'a: 1\n');
  const s = serviceSpec('svc', {
    mounts: [
      { volume: 'conf', source: 'conf', target: 'etc/baetyl', readonly: true },
      { volume: 'data', source: 'data', target: 'var/db/baetyl/data', readonly: false },
    ],
  });
  const first = mountsDigest(workdir, s);
  writeFileSync(join(workdir, 'data/state.db'), 'written while it runs');
  assert.equal(mountsDigest(workdir, s), first, 'a writable mount does not count');
  writeFileSync(join(workdir, 'conf/service.yml'), 'a: 2\n');
  const edited = mountsDigest(workdir, s);
  assert.notEqual(edited, first, 'an edited file counts');
  writeFileSync(join(workdir, 'conf/sub/new.yml'), '');
  assert.notEqual(mountsDigest(workdir, s), edited, 'a new file counts');
});
