// The docker engine against a real Docker engine: containers, labels, mounts, env, args, ports,
// resources, the `baetyl` network and its DNS, the API socket, grace, dynamic instances.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MasterClient } from '@baetyl/core';
import { runBaetyl, startMaster, type Workdir } from './helpers.js';
import { containersOf, docker, dockerSkipReason, ensureTestImage, makeDockerWorkdir, nameOf, probe, removeContainersOf, uniq } from './docker-helpers.js';
import { freePort, waitFor } from '@baetyl/test-support';

const skip = await dockerSkipReason();
if (!skip) await ensureTestImage();
const workdirs: Workdir[] = [];
after(async () => {
  if (!skip) for (const wd of workdirs) await removeContainersOf(wd.dir);
});

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

test('each instance is a labelled container with its mounts, env, args, ports, resources and network', { skip }, async () => {
  const p = uniq();
  const port = await freePort();
  const wd = makeDockerWorkdir([
    {
      name: `${p}-a`,
      replica: 2,
      args: ['one', 'two'],
      resources: { cpu: { cpus: 0.5 }, memory: { limit: '64m' }, pids: { limit: 100 } },
      env: { LISTEN: '8080', PEER: `${p}-b:8080`, WRITE: '/etc/baetyl/x', API: '1', GREETING: 'hello' },
    },
    // Two instances cannot publish one host port: the published one is a single instance.
    { name: `${p}-b`, env: { LISTEN: '8080' }, ports: [`127.0.0.1:${port}:8080`], devices: ['/dev/null:/dev/baetyl-null:rw'] },
    { name: `${p}-c`, env: { IGNORE_TERM: '1' } },
  ]);
  workdirs.push(wd);
  const m = await startMaster(wd);
  try {
    const a = await probe(wd, `${p}-a`, (r) => r.record.write !== undefined && r.record.peer !== undefined && r.record.api !== undefined, 'its checks');
    // Env: the service's own, then Baetyl's.
    assert.equal(a.env.GREETING, 'hello');
    assert.equal(a.env.BAETYL_SERVICE_NAME, `${p}-a`);
    assert.equal(a.env.BAETYL_SERVICE_INSTANCE_NAME, `${p}-a`);
    assert.equal(a.env.BAETYL_SERVICE_MODE, 'docker');
    assert.equal(a.env.BAETYL_MASTER_API_ADDRESS, 'unix:///var/run/baetyl.sock');
    assert.ok(a.env.BAETYL_SERVICE_TOKEN);
    assert.equal(a.env.PATH?.includes('/usr/local/bin'), true, 'the image env is kept');
    assert.deepEqual(a.argv, ['one', 'two']);
    // A read-only mount is read-only; the API socket works from inside; names resolve on `baetyl`.
    assert.equal(a.record.write, 'EROFS');
    assert.equal(a.record.api, 200);
    assert.equal(a.record.peer, `hi ${p}-b`);
    const a1 = await probe(wd, `${p}-a.i1`);
    assert.equal(a1.env.BAETYL_SERVICE_INSTANCE_NAME, `${p}-a.i1`);
    assert.equal(await ask(port), `hi ${p}-b`);

    const info = await docker.getContainer(`${p}-a`).inspect();
    assert.deepEqual(
      {
        baetyl: info.Config.Labels.baetyl,
        service: info.Config.Labels.service,
        instance: info.Config.Labels.instance,
        workdir: info.Config.Labels['baetyl.workdir'],
      },
      { baetyl: 'baetyl', service: `${p}-a`, instance: `${p}-a`, workdir: wd.dir },
    );
    const binds = info.HostConfig.Binds ?? [];
    assert.ok(binds.includes(`${join(wd.dir, 'var/db/baetyl/out')}:/out:rw`), binds.join(' '));
    assert.ok(binds.includes(`${join(wd.dir, 'var/db/baetyl/conf')}:/etc/baetyl:ro`), binds.join(' '));
    assert.ok(binds.includes(`${join(wd.dir, 'var/run/baetyl.sock')}:/var/run/baetyl.sock:ro`), binds.join(' '));
    assert.equal(info.HostConfig.RestartPolicy?.Name, 'no');
    assert.equal(info.HostConfig.NetworkMode, 'baetyl');
    assert.equal(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info.HostConfig.PidsLimit, 100);
    const cfs = (await docker.info()) as { CpuCfsQuota?: boolean };
    if (cfs.CpuCfsQuota !== false) assert.equal(info.HostConfig.NanoCpus, 5e8);
    const b = await docker.getContainer(`${p}-b`).inspect();
    assert.deepEqual(b.HostConfig.PortBindings?.['8080/tcp'], [{ HostIp: '127.0.0.1', HostPort: String(port) }]);
    assert.deepEqual(b.HostConfig.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/baetyl-null', CgroupPermissions: 'rw' }]);

    const names = (await containersOf(wd.dir)).map(nameOf).sort();
    assert.deepEqual(names, [`${p}-a`, `${p}-a.i1`, `${p}-b`, `${p}-c`]);
    // Inspect shows containers and their usage.
    const client = new MasterClient({ address: `unix://${join(wd.dir, 'var/run/baetyl.sock')}`, username: `${p}-a`, password: a.env.BAETYL_SERVICE_TOKEN! });
    const ins = (await client.inspect()) as {
      services: Array<{ name: string; instances: Array<{ name: string; container?: { id: string }; mem_stats?: { used: number } }> }>;
    };
    client.close();
    const inst = ins.services.find((s) => s.name === `${p}-a`)!.instances.find((i) => i.name === `${p}-a`)!;
    assert.equal(inst.container?.id, info.Id);
    assert.ok((inst.mem_stats?.used ?? 0) > 0);
  } finally {
    await m.stop();
  }
  // Stopped politely (c ignores SIGTERM and is killed after grace), and removed.
  assert.equal((await containersOf(wd.dir)).length, 0);
  assert.match(readFileSync(join(wd.out, 'term.log'), 'utf8'), new RegExp(`${p}-c`));
  assert.match(m.log(), /msg="instance stopped"/);
});

test('dynamic instances: started by the API as containers (replacing one of the same name), stopped and removed', { skip }, async () => {
  const p = uniq();
  // Also: docker.api_version pins the API version the master speaks (1.41 is Docker 20.10's).
  const wd = makeDockerWorkdir([{ name: `${p}-fm` }, { name: `${p}-fn`, replica: 0, env: { LISTEN: '50051' } }], { docker: { api_version: '1.41' } });
  workdirs.push(wd);
  const m = await startMaster(wd);
  try {
    const fm = await probe(wd, `${p}-fm`);
    const client = new MasterClient({ address: `unix://${join(wd.dir, 'var/run/baetyl.sock')}`, username: `${p}-fm`, password: fm.env.BAETYL_SERVICE_TOKEN! });
    const inst = `${p}-fn.sayhi.1`;
    await client.startInstance(`${p}-fn`, inst, { BAETYL_SERVICE_INSTANCE_ADDRESS: '0.0.0.0:50051' });
    const r = await probe(wd, inst);
    assert.equal(r.env.BAETYL_SERVICE_INSTANCE_ADDRESS, '0.0.0.0:50051');
    assert.equal(r.env.BAETYL_SERVICE_TOKEN, undefined, 'dynamic instances get no token');
    const first = (await docker.getContainer(inst).inspect()).Id;
    await client.startInstance(`${p}-fn`, inst, { BAETYL_SERVICE_INSTANCE_ADDRESS: '0.0.0.0:50051' });
    const second = (await docker.getContainer(inst).inspect()).Id;
    assert.notEqual(second, first);
    assert.equal((await containersOf(wd.dir)).filter((c) => nameOf(c) === inst).length, 1);
    await client.stopInstance(`${p}-fn`, inst);
    await waitFor('the dynamic instance to be removed', async () => !(await containersOf(wd.dir)).some((c) => nameOf(c) === inst));
    client.close();
  } finally {
    await m.stop();
  }
});

test('missing images: a clear error naming the image and what to do; the other services run', { skip }, async () => {
  const p = uniq();
  const wd = makeDockerWorkdir([{ name: `${p}-ok` }, { name: `${p}-bad`, image: 'no-such-registry.invalid/acme/no-such-image:1.0' }]);
  workdirs.push(wd);
  const m = await startMaster(wd);
  try {
    await probe(wd, `${p}-ok`);
    const log = m.log();
    assert.match(log, /level=info msg="pulling image \(no-such-registry\.invalid\/acme\/no-such-image:1\.0\)"/);
    assert.match(
      log,
      /image no-such-registry\.invalid\/acme\/no-such-image:1\.0 is not present and cannot be pulled \(.+\): get it onto this machine with `docker pull/,
    );
    assert.match(log, new RegExp(`level=error msg="failed to start instance: image .*" .*instance=${p}-bad`));
  } finally {
    await m.stop();
  }
});

test('an unreachable Docker engine is a clear error that says what to do', async () => {
  const wd = makeDockerWorkdir([{ name: 'x' }]);
  const { spawn } = await import('node:child_process');
  const { BAETYL } = await import('./helpers.js');
  const child = spawn(process.execPath, [BAETYL, 'start', '-w', wd.dir], {
    env: { ...process.env, DOCKER_HOST: `unix://${join(wd.dir, 'no-docker.sock')}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 1);
  assert.match(stderr, /Docker engine not reachable at unix:\/\/.*no-docker\.sock \(ENOENT\): start the Docker engine .* or set "mode: native" in .*conf\.yml/);
  assert.equal(existsSync(join(wd.dir, 'var/run/baetyl.sock')), false);
});

test('an API version the engine refuses is a clear error naming conf.yml', { skip }, async () => {
  const wd = makeDockerWorkdir([{ name: 'x' }], { docker: { api_version: '1.99' } });
  const res = await runBaetyl(['start', '-w', wd.dir]);
  assert.equal(res.code, 1);
  assert.match(res.stderr, /Docker engine at .* does not accept API version 1\.99 \(.*1\.99.*\): remove docker\.api_version from .*conf\.yml/);
});
