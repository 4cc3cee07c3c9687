// End to end in containers: the tutorial's application (deploy/example/docker) in docker mode,
// checked with a real MQTT client against every message of the behaviour reference's §5, at QoS 0
// and QoS 1; function instances appear as containers on demand and go after their idletime.
// Then the same stack through deploy/docker-compose.yml, the master itself in a container; then
// Baetyl v1's own docker example apps. One file, so that they run one after the other: each names
// its containers after its services (localhub, function-manager...), as v1 did.
// The images come from scripts/images/build.sh (rebuilt here when older than the compiled code).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { parse, stringify } from 'yaml';
import { freePort, v1Examples, waitFor } from '@baetyl/test-support';
import { BAETYL, runBaetyl, startMaster } from './helpers.js';
import { containersOf, dockerSkipReason, ensureImages, nameOf, REPO, removeContainersOf } from './docker-helpers.js';

const SERVICE_IMAGES = ['hub', 'function-manager', 'timer', 'function-python27', 'function-python36', 'function-node85', 'function-sql'];
const FUNCTION_SERVICES = ['function-python27-sayhi', 'function-python36-sayhi', 'function-node85-sayhi', 'function-sql-filter'];

function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  return undefined;
}

const skip = await dockerSkipReason();
let composeSkip: string | undefined = skip;
const compose = skip ? undefined : composeCommand();
if (!skip && !compose) {
  const why = 'neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)';
  if (process.env.BAETYL_REQUIRE_DOCKER === '1') throw new Error(`${why}, and BAETYL_REQUIRE_DOCKER=1 says the docker tests must run`);
  process.stderr.write(`# compose test skipped: ${why}\n`);
  composeSkip = `${why}: compose test skipped`;
}
// Images older than the compiled code are rebuilt (BAETYL_IMAGES_BUILT=1: `make images` just ran).
if (!skip && process.env.BAETYL_IMAGES_BUILT !== '1') await ensureImages([...SERVICE_IMAGES, ...(composeSkip ? [] : ['master'])]);

const workdirs: string[] = [];
after(async () => {
  if (!skip) for (const wd of workdirs) await removeContainersOf(wd);
});

/** A copy of deploy/example/docker: the hub published on a free port, function instances idle out quickly. */
async function tutorialWorkdir(): Promise<{ dir: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-tutorial-'));
  cpSync(join(REPO, 'deploy/example/docker'), dir, { recursive: true });
  const port = await freePort();
  const appFile = join(dir, 'var/db/baetyl/application.yml');
  writeFileSync(appFile, readFileSync(appFile, 'utf8').replace('- 1883:1883', `- ${port}:1883`));
  const conf = join(dir, 'etc/baetyl/conf.yml');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('grace: 30s', 'grace: 10s').replace('level: info', 'level: debug'));
  const fmFile = join(dir, 'var/db/baetyl/function-manager-conf/service.yml');
  const fm = parse(readFileSync(fmFile, 'utf8')) as { functions: Array<{ instance?: Record<string, unknown>; timeout?: string }> };
  for (const f of fm.functions) {
    f.instance = { ...(f.instance ?? {}), idletime: '15s', evicttime: '2s' };
    // A cold start on a loaded machine can take longer than the default 30s dial timeout.
    f.timeout = '90s';
  }
  writeFileSync(fmFile, stringify(fm));
  workdirs.push(dir);
  return { dir, port };
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
function exact(template: string): RegExp {
  const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/<uuid>/g, UUID).replace(/<ts>/g, '\\d+')}$`);
}

/** §5 of the behaviour reference: the six messages one publish of {"id":1} on `t` yields. */
function expected(qos: 0 | 1): Record<string, { payload: RegExp; qos: number }> {
  return {
    t: { payload: exact('{"id":1}'), qos },
    't/topic': { payload: exact('{"id":1}'), qos: 0 },
    't/py2hi': {
      payload: exact(
        '{"messageTopic": "t", "functionName": "python27-sayhi", "functionInvokeID": "<uuid>", "messageTimestamp": <ts>, "messageQOS": 0, "Say": "Hello Baetyl", "id": 1}',
      ),
      qos: 0,
    },
    't/py3hi': {
      payload: exact(
        '{"id": 1, "messageQOS": 0, "messageTopic": "t", "messageTimestamp": <ts>, "functionName": "python36-sayhi", "functionInvokeID": "<uuid>", "Say": "Hello Baetyl"}',
      ),
      qos: 0,
    },
    't/node8hi': {
      payload: exact(
        '{"id":1,"messageQOS":0,"messageTopic":"t","messageTimestamp":<ts>,"functionName":"node85-sayhi","functionInvokeID":"<uuid>","Say":"Hello Baetyl"}',
      ),
      qos: 0,
    },
    't/sqlfilter': { payload: exact(`{"id":1,"qos":${qos},"topic":"t"}`), qos },
  };
}

/** A message of one round: payloads carry the round's id (`"id":1` or `"id": 1`). */
function ofId(payload: string, id: number): boolean {
  return new RegExp(`"id": ?${id}[,}]`).test(payload);
}

/**
 * Publishes {"id":1} at QoS 0 and QoS 1 and checks every message; checks `docker ps` meanwhile.
 * First a warm-up with {"id":2}, repeated until every function has answered: the rules subscribe
 * only once the function manager is connected, and a QoS 0 message published before is lost.
 */
async function checkTutorial(dir: string, port: number): Promise<void> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    username: 'test',
    password: 'hahaha',
    clientId: `e2e-${process.pid}`,
    reconnectPeriod: 500,
    connectTimeout: 5000,
  });
  const got: Array<{ topic: string; payload: string; qos: number }> = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos }));
  const outputs = ['t/py2hi', 't/py3hi', 't/node8hi', 't/sqlfilter'];
  try {
    await waitFor('the hub to accept the MQTT client', () => client.connected, 120_000);
    await client.subscribeAsync('#', { qos: 1 });
    let lastWarmUp = 0;
    await waitFor(
      `every function to answer a warm-up message (got: ${JSON.stringify(got.slice(-20))})`,
      async () => {
        if (outputs.every((t) => got.some((m) => m.topic === t && ofId(m.payload, 2)))) return true;
        if (Date.now() - lastWarmUp > 10_000) {
          lastWarmUp = Date.now();
          await client.publishAsync('t', '{"id":2}', { qos: 0 });
        }
        return false;
      },
      240_000,
    );
    for (const qos of [0, 1] as const) {
      const seen = got.length;
      // At QoS 1 this resolves on the end-to-end PUBACK (forwarded from the sql rule's output).
      await client.publishAsync('t', '{"id":1}', { qos });
      const want = expected(qos);
      const round = () => got.slice(seen).filter((m) => ofId(m.payload, 1));
      await waitFor(
        `the six messages of §5 at QoS ${qos} (got: ${JSON.stringify(round())})`,
        () => Object.keys(want).every((t) => round().some((m) => m.topic === t)),
        120_000,
      );
      for (const [topic, w] of Object.entries(want)) {
        const msgs = round().filter((m) => m.topic === topic);
        assert.equal(msgs.length, 1, `one message on ${topic} at QoS ${qos}: ${JSON.stringify(msgs)}`);
        assert.match(msgs[0]!.payload, w.payload, `payload on ${topic} at QoS ${qos}`);
        assert.equal(msgs[0]!.qos, w.qos, `QoS on ${topic} at QoS ${qos}`);
      }
      // The function instances run as containers, started on demand (docker ps).
      const running = (await containersOf(dir)).filter((c) => c.State === 'running').map(nameOf);
      for (const svc of FUNCTION_SERVICES)
        assert.ok(
          running.some((n) => n.startsWith(`${svc}.`)),
          `an instance container of ${svc} in ${running.join(', ')}`,
        );
      assert.ok(running.includes('localhub') && running.includes('function-manager'));
    }
    // After idletime, the function instances are gone; the hub and the manager stay.
    await waitFor(
      'the function instance containers to go after their idletime',
      async () => (await containersOf(dir)).map(nameOf).sort().join() === 'function-manager,localhub',
      120_000,
    );
  } finally {
    await client.endAsync();
  }
}

test('the tutorial in docker mode: every message of §5 at QoS 0 and 1, instances on demand, gone after idletime', { skip, timeout: 600_000 }, async () => {
  const { dir, port } = await tutorialWorkdir();
  const m = await startMaster({ dir, out: dir });
  try {
    // Before any message only the static services run: instances start on demand.
    assert.deepEqual((await containersOf(dir)).map(nameOf).sort(), ['function-manager', 'localhub']);
    await checkTutorial(dir, port);
  } finally {
    await m.stop();
  }
  assert.equal((await containersOf(dir)).length, 0, 'the master removed every container it started');
});

test(
  "baetyl logs in docker mode: a container's output prefixed with its instance, and -f picks up a new instance's container",
  { skip, timeout: 600_000 },
  async () => {
    const { dir, port } = await tutorialWorkdir();
    const m = await startMaster({ dir, out: dir });
    const follow = spawn(process.execPath, [BAETYL, 'logs', '-f', 'function-python36-sayhi', '-w', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (d) => (followed += d));
    follow.stderr.on('data', (d) => (followed += d));
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      username: 'test',
      password: 'hahaha',
      clientId: `e2e-logs-${process.pid}`,
      reconnectPeriod: 500,
    });
    const got: string[] = [];
    client.on('message', (topic) => got.push(topic));
    try {
      await waitFor('the hub to accept the MQTT client', () => client.connected, 120_000);
      const hub = await runBaetyl(['logs', '-n', '5', 'localhub', '-w', dir]);
      assert.equal(hub.code, 0, hub.stderr);
      const lines = hub.stdout.split('\n').filter(Boolean);
      assert.ok(lines.length > 0 && lines.length <= 5, hub.stdout);
      for (const l of lines) assert.match(l, /^localhub \| time=\S+ level=\w+ msg=/);
      // The master's own log, with no name, in docker mode too.
      assert.match((await runBaetyl(['logs', '-n', 'all', '-w', dir])).stdout, /msg="services started"/);
      // No python36 instance runs yet: the follower waits for one, and shows it from its start.
      assert.doesNotMatch(followed, /\|/);
      await client.subscribeAsync('t/py3hi');
      let last = 0;
      await waitFor(
        'the python36 function to answer',
        async () => {
          if (got.includes('t/py3hi')) return true;
          if (Date.now() - last > 10_000) {
            last = Date.now();
            await client.publishAsync('t', '{"id":3}');
          }
          return false;
        },
        240_000,
      );
      await waitFor(
        `the new instance container's lines in baetyl logs -f (got: ${followed})`,
        () => /^function-python36-sayhi\.python36-sayhi\.\d+ \| .*service starting/m.test(followed),
        60_000,
      );
      const unknown = await runBaetyl(['logs', 'nosuch', '-w', dir]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no service or instance named "nosuch" .*services: localhub, function-manager, /);
    } finally {
      follow.kill('SIGTERM');
      client.end(true);
      await m.stop();
    }
  },
);

test('docker-compose up on deploy/docker-compose.yml: the master in a container runs the same stack', { skip: composeSkip, timeout: 600_000 }, async () => {
  const { dir, port } = await tutorialWorkdir();
  const project = `baetyle2e${process.pid}`;
  const env = { ...process.env, BAETYL_WORKDIR: dir };
  const base = [...compose!.slice(1), '-p', project, '-f', join(REPO, 'deploy/docker-compose.yml')];
  const run = (args: string[]) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(compose![0]!, [...base, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => {
        if (code !== 0) process.stderr.write(`# ${compose!.join(' ')} ${args.join(' ')} failed: ${err}\n`);
        resolve(code);
      });
    });
  const log = () => (existsSync(join(dir, 'var/log/baetyl/baetyl.log')) ? readFileSync(join(dir, 'var/log/baetyl/baetyl.log'), 'utf8') : '');
  assert.equal(await run(['up', '-d']), 0);
  try {
    await waitFor('the master in its container to start the services', () => log().includes('services started'), 120_000);
    await checkTutorial(dir, port);
  } finally {
    assert.equal(await run(['down']), 0);
  }
  // `down` stopped the master, which stopped and removed its service containers first.
  assert.equal((await containersOf(dir)).length, 0);
  assert.match(log(), /msg="engine stopped"/);
});

const DB = 'var/db/baetyl';
const corpus = v1Examples();

async function copyDockerExample(release: string): Promise<{ dir: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), `baetyl-v1-docker-${release}-`));
  cpSync(join(corpus!, release, 'docker'), dir, { recursive: true });
  const [port, tlsPort] = [await freePort(), await freePort()];
  const app = join(dir, DB, 'application.yml');
  writeFileSync(app, readFileSync(app, 'utf8').replace('- 1883:1883', `- ${port}:1883`).replace('- 8883:8883', `- ${tlsPort}:8883`));
  const code = join(REPO, 'deploy/example/native', DB);
  cpSync(join(code, 'function-sayhi-code'), join(dir, DB, 'function-sayhi-code'), { recursive: true });
  cpSync(join(code, 'function-sayjs-code'), join(dir, DB, 'function-sayjs-code'), { recursive: true });
  workdirs.push(dir);
  return { dir, port };
}

const v1Skip = skip ?? (corpus ? undefined : 'the v1 examples corpus is not on this machine (set BAETYL_V1_EXAMPLES)');

// Config untouched but for the published ports; the tutorial's function code in their code volumes.
for (const release of ['stable-1', '1.0.0']) {
  test(
    `Baetyl v1 example ${release}/docker: the services run as containers under v1's image names, and the rules answer the timer's messages`,
    { skip: v1Skip ?? false, timeout: 600_000 },
    async () => {
      const { dir, port } = await copyDockerExample(release);
      const m = await startMaster({ dir, out: dir });
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
        username: 'test',
        password: 'hahaha',
        clientId: `v1-docker-${release.replace(/\./g, '')}`,
        reconnectPeriod: 500,
      });
      const got: Array<{ topic: string; payload: string }> = [];
      client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
      try {
        await waitFor('the hub container to accept the MQTT client', () => client.connected, 120_000);
        await client.subscribeAsync('#', { qos: 1 });
        const running = (await containersOf(dir)).filter((c) => c.State === 'running').map((c) => c.Labels.service);
        for (const svc of ['localhub', 'function-manager', 'timer']) assert.ok(running.includes(svc), `${svc} runs (running: ${running.join(', ')})`);
        // The timer publishes every 10 s; the first answers include the runtimes' cold starts.
        const outputs = ['t', 't/topic', 't/py2hi', 't/py3hi', 't/node8hi', 't/sqlfilter'];
        await waitFor(
          `a timer message and every rule's answer (got: ${JSON.stringify(got.slice(-10))})`,
          () => outputs.every((t) => got.some((x) => x.topic === t)),
          240_000,
        );
        const tick = JSON.parse(got.find((x) => x.topic === 't')!.payload) as Record<string, unknown>;
        assert.equal(typeof tick.time, 'number');
        for (const [topic, fn] of [
          ['t/py2hi', 'python27-sayhi'],
          ['t/py3hi', 'python36-sayhi'],
          ['t/node8hi', 'node85-sayhi'],
        ] as const) {
          const out = JSON.parse(got.find((x) => x.topic === topic)!.payload) as Record<string, unknown>;
          assert.equal(out.Say, 'Hello Baetyl', topic);
          assert.equal(out.functionName, fn, topic);
          assert.equal(typeof out.id, 'number', topic);
        }
        const sql = JSON.parse(got.find((x) => x.topic === 't/sqlfilter')!.payload) as Record<string, unknown>;
        // The timer publishes at QoS 0 (its publish.qos is not set), so the sql rule sees qos 0.
        assert.deepEqual([sql.topic, sql.qos, typeof sql.id], ['t', 0, 'number']);
      } finally {
        client.end(true);
        await m.stop();
      }
    },
  );
}
