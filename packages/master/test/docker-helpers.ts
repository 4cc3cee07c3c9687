// Helpers of the docker engine tests: whether Docker is here (the tests are skipped, with the
// reason printed, only when it is not, and never when BAETYL_REQUIRE_DOCKER=1, as on CI), the
// test image, and workdirs whose services run test/fixtures/docker/probe.js in containers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { stringify } from 'yaml';
import { type Workdir } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../test/fixtures/docker/', import.meta.url));
export const TEST_IMAGE = 'baetyl-test-probe:latest';

export const docker = new Docker();

/** Why the docker tests cannot run here, or undefined when they can. */
export async function dockerSkipReason(): Promise<string | undefined> {
  try {
    await docker.ping();
    return undefined;
  } catch (err) {
    const why = `Docker engine not reachable at ${process.env.DOCKER_HOST || '/var/run/docker.sock'} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    if (process.env.BAETYL_REQUIRE_DOCKER === '1') throw new Error(`${why}, and BAETYL_REQUIRE_DOCKER=1 says the docker tests must run`);
    process.stderr.write(`# docker tests skipped: ${why}\n`);
    return `${why}: docker tests skipped`;
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): void {
  // Quiet unless it fails: the output then says why.
  const res = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status ?? res.error?.message}):\n${res.stdout}${res.stderr}`);
}

async function present(image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch {
    return false;
  }
}

/** Builds the test image on the offline base (building that base first when missing). */
export async function ensureTestImage(): Promise<void> {
  let base = 'baetyl-base:bookworm';
  if (!(await present(base))) {
    if (await present('node:20-bookworm-slim')) base = 'node:20-bookworm-slim';
    else {
      process.stderr.write('# building the offline base image baetyl-base:bookworm (debootstrap, a few minutes)\n');
      run(join(REPO, 'scripts/images/base.sh'), ['node']);
    }
  }
  run('docker', ['build', '-q', '--build-arg', `BASE=${base}`, '-t', TEST_IMAGE, FIXTURE]);
}

export interface ProbeService {
  name: string;
  replica?: number;
  env?: Record<string, string>;
  args?: string[];
  restart?: Record<string, unknown>;
  image?: string;
  ports?: string[];
  devices?: string[];
  resources?: Record<string, unknown>;
  mounts?: Array<{ name: string; path: string; readonly?: boolean }>;
}

/** A short random prefix: container names are global, and test files run in parallel. */
export function uniq(): string {
  return `t${randomBytes(3).toString('hex')}`;
}

/** A docker-mode workdir; every service mounts `out` (at /out) and records into it. */
export function makeDockerWorkdir(services: ProbeService[], conf: Record<string, unknown> = {}): Workdir {
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-dwd-'));
  const out = join(dir, 'var/db/baetyl/out');
  mkdirSync(out, { recursive: true });
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  mkdirSync(join(dir, 'var/db/baetyl/conf'), { recursive: true });
  writeFileSync(join(dir, 'var/db/baetyl/conf/service.yml'), 'hello: world\n');
  writeFileSync(join(dir, 'etc/baetyl/conf.yml'), stringify({ mode: 'docker', grace: '3s', logger: { level: 'debug' }, ...conf }));
  const app = {
    version: 'v1',
    services: services.map((s) => ({
      name: s.name,
      image: s.image ?? TEST_IMAGE,
      replica: s.replica ?? 1,
      mounts: s.mounts ?? [
        { name: 'out', path: 'out' },
        { name: 'conf', path: 'etc/baetyl', readonly: true },
      ],
      env: { OUT: '/out', ...(s.env ?? {}) },
      ...(s.args ? { args: s.args } : {}),
      ...(s.ports ? { ports: s.ports } : {}),
      ...(s.devices ? { devices: s.devices } : {}),
      ...(s.resources ? { resources: s.resources } : {}),
      ...(s.restart ? { restart: s.restart } : {}),
    })),
    volumes: [
      { name: 'out', path: 'var/db/baetyl/out' },
      { name: 'conf', path: 'var/db/baetyl/conf' },
    ],
  };
  writeFileSync(join(dir, 'var/db/baetyl/application.yml'), stringify(app));
  return { dir, out };
}

export interface ProbeRecord {
  env: Record<string, string>;
  argv: string[];
  cwd: string;
  record: { write?: string; peer?: string; api?: number; peerError?: string; apiError?: string };
}

/** What an instance recorded; waits until `until` holds for it. */
export async function probe(wd: Workdir, instance: string, until: (r: ProbeRecord) => boolean = () => true, what = 'its record'): Promise<ProbeRecord> {
  const file = join(wd.out, `${instance}.json`);
  let rec: ProbeRecord | undefined;
  await waitFor(`${instance} to record ${what}`, () => {
    if (!existsSync(file)) return false;
    try {
      rec = JSON.parse(readFileSync(file, 'utf8')) as ProbeRecord;
    } catch {
      return false;
    }
    return until(rec);
  });
  return rec!;
}

export function startCount(wd: Workdir, instance: string): number {
  const file = join(wd.out, 'starts.log');
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[2] === instance).length;
}

/** This workdir's containers, running or not, by name. */
export async function containersOf(workdir: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`baetyl.workdir=${workdir}`] }) });
}

export function nameOf(c: Docker.ContainerInfo): string {
  return (c.Names[0] ?? '').replace(/^\//, '');
}

/** Removes whatever a test left (a failed test must not leave containers running). */
export async function removeContainersOf(workdir: string): Promise<void> {
  for (const c of await containersOf(workdir))
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
}

/** The newest modification time of the compiled packages (what the images are built from). */
function newestBuild(): number {
  let newest = 0;
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const full = join(dir, n);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const pkg of readdirSync(join(REPO, 'packages'))) walk(join(REPO, 'packages', pkg, 'dist', 'src'));
  return newest;
}

/** Builds `baetyl-<name>` images with scripts/images/build.sh unless each is newer than the build. */
export async function ensureImages(names: string[]): Promise<void> {
  const built = newestBuild();
  const stale: string[] = [];
  for (const n of names) {
    const created = await docker
      .getImage(`baetyl-${n}:latest`)
      .inspect()
      .then(
        (i) => Date.parse(i.Created),
        () => 0,
      );
    if (created < built) stale.push(n);
  }
  if (!stale.length) return;
  process.stderr.write(`# building images: ${stale.join(' ')}\n`);
  const res = spawnSync(join(REPO, 'scripts/images/build.sh'), [], {
    env: { ...process.env, IMAGES: stale.join(' '), BAETYL_IMAGES_QUIET: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (res.status !== 0) throw new Error(`scripts/images/build.sh failed for ${stale.join(' ')}: see its output above`);
}
