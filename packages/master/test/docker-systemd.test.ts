// The systemd install: install.sh lays out /usr/local (into a staging root here), the unit passes
// `systemd-analyze verify`, and /usr/local/bin/baetyl runs the master in its container the way the
// unit does: `start` in the foreground until SIGTERM, `status` through the running container.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  containersOf,
  docker,
  dockerSkipReason,
  ensureImages,
  ensureTestImage,
  makeDockerWorkdir,
  probe,
  removeContainersOf,
  REPO,
  uniq,
} from './docker-helpers.js';
import { waitFor } from '@baetyl/test-support';

const INSTALL = join(REPO, 'deploy/systemd/install.sh');

function install(): string {
  const root = mkdtempSync(join(tmpdir(), 'baetyl-root-'));
  const res = spawnSync(INSTALL, ['--example'], { env: { ...process.env, DESTDIR: root }, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return root;
}

const analyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;
const analyzeSkip = analyze ? undefined : 'systemd-analyze is not installed (apt-get install systemd): unit verification skipped';
if (analyzeSkip) process.stderr.write(`# ${analyzeSkip}\n`);

test('install.sh lays out /usr/local, and the unit passes systemd-analyze verify', { skip: analyzeSkip }, () => {
  const root = install();
  const unit = join(root, 'etc/systemd/system/baetyl.service');
  const bin = join(root, 'usr/local/bin/baetyl');
  assert.ok(statSync(bin).mode & 0o111, 'the command is executable');
  assert.match(readFileSync(bin, 'utf8'), /WORKDIR=\$\{BAETYL_WORKDIR:-\/usr\/local\}/);
  assert.match(readFileSync(unit, 'utf8'), /^ExecStart=\/usr\/local\/bin\/baetyl start$/m);
  assert.match(readFileSync(join(root, 'usr/local/etc/baetyl/conf.yml'), 'utf8'), /^mode: docker$/m);
  assert.ok(existsSync(join(root, 'usr/local/var/db/baetyl/application.yml')));
  assert.ok(existsSync(join(root, 'usr/local/var/log/baetyl')));
  // The JSON Schemas, and the installed config files name them where they are installed (docs/editors.md).
  const schemaLine = (file: string) => readFileSync(join(root, file), 'utf8').split('\n')[0];
  assert.equal(schemaLine('usr/local/etc/baetyl/conf.yml'), '# yaml-language-server: $schema=/usr/local/share/baetyl/schemas/conf.schema.json');
  assert.equal(
    schemaLine('usr/local/var/db/baetyl/localhub-conf/service.yml'),
    '# yaml-language-server: $schema=/usr/local/share/baetyl/schemas/hub.schema.json',
  );
  for (const schema of ['conf', 'application', 'hub', 'function-manager', 'function-runtime', 'timer', 'remote-mqtt']) {
    assert.ok(existsSync(join(root, `usr/local/share/baetyl/schemas/${schema}.schema.json`)), `${schema}.schema.json is installed`);
  }
  // Verify inside the staging root, which needs the system's own units (targets) next to ours.
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  for (const dir of ['/usr/lib/systemd/system', '/lib/systemd/system']) {
    if (existsSync(dir)) {
      cpSync(dir, join(root, 'usr/lib/systemd/system'), { recursive: true, dereference: false, verbatimSymlinks: true });
      break;
    }
  }
  const res = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/etc/systemd/system/baetyl.service'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  // Warnings (an unknown key, a bad value) are failures too.
  assert.equal(res.stderr.trim(), '', res.stderr);
  // Installing again keeps the configuration.
  const again = spawnSync(INSTALL, ['--example'], { env: { ...process.env, DESTDIR: root }, encoding: 'utf8' });
  assert.match(again.stderr, /kept existing .*conf\.yml/);
});

const skip = await dockerSkipReason();
const workdirs: string[] = [];
if (!skip) {
  await ensureTestImage();
  if (process.env.BAETYL_IMAGES_BUILT !== '1') await ensureImages(['master']);
}
after(async () => {
  if (!skip) for (const wd of workdirs) await removeContainersOf(wd);
});

test('the installed command runs the master in its container, as the unit does; SIGTERM stops it all', { skip }, async () => {
  const root = install();
  const bin = join(root, 'usr/local/bin/baetyl');
  const p = uniq();
  const wd = makeDockerWorkdir([{ name: `${p}-svc` }]);
  workdirs.push(wd.dir);
  const env = { ...process.env, BAETYL_WORKDIR: wd.dir, BAETYL_MASTER_CONTAINER: `${p}-master` };
  const master = spawn(bin, ['start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  master.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => master.on('exit', r));
  const log = () => (existsSync(join(wd.dir, 'var/log/baetyl/baetyl.log')) ? readFileSync(join(wd.dir, 'var/log/baetyl/baetyl.log'), 'utf8') : '');
  try {
    await waitFor('the master in its container to start', () => log().includes('services started') || master.exitCode !== null, 120_000);
    assert.match(log(), /mode: docker/, stderr);
    await probe(wd, `${p}-svc`);
    const status = spawnSync(bin, ['status'], { env, encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`${p}-svc`));
    const version = spawnSync(bin, ['version'], { env, encoding: 'utf8' });
    assert.match(version.stdout, /^baetyl version /);
  } finally {
    // What systemd does on `systemctl stop baetyl`.
    master.kill('SIGTERM');
    await exited;
  }
  assert.equal((await containersOf(wd.dir)).length, 0);
  assert.match(log(), /msg="engine stopped"/);
  assert.equal((await docker.listContainers({ all: true, filters: JSON.stringify({ name: [`${p}-master`] }) })).length, 0);
});
