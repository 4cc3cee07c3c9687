// Baetyl v1's own docker example apps (branch stable/1 and tag 1.0.0) in docker mode, config
// untouched but for the published ports: the hub, the function manager and the timer run as
// containers under v1's image names (hub.baidubce.com/baetyl/...), the timer's messages reach the
// hub, and the four function rules answer them from runtime containers started on demand.
// The examples ship no function code, so the tutorial's is put in their code volumes.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { v1Examples } from '@baetyl/test-support';
import { freePort, startMaster, waitUntil } from './helpers.js';
import { containersOf, dockerSkipReason, ensureImages, REPO, removeContainersOf } from './docker-helpers.js';

const DB = 'var/db/baetyl';
const skip = await dockerSkipReason();
const corpus = v1Examples();
if (!skip && corpus && process.env.BAETYL_IMAGES_BUILT !== '1') {
  await ensureImages(['hub', 'function-manager', 'timer', 'function-python27', 'function-python36', 'function-node85', 'function-sql']);
}

const workdirs: string[] = [];
after(async () => {
  if (!skip) for (const wd of workdirs) await removeContainersOf(wd);
});

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

const why = skip ?? (corpus ? undefined : 'the v1 examples corpus is not on this machine (set BAETYL_V1_EXAMPLES)');

for (const release of ['stable-1', '1.0.0']) {
  describe(`Baetyl v1 example ${release}/docker in docker mode`, { skip: why ?? false }, () => {
    test("the services run as containers, and the function rules answer the timer's messages", async () => {
      const { dir, port } = await copyDockerExample(release);
      const m = await startMaster({ dir, out: dir });
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'test', password: 'hahaha', clientId: `v1-docker-${release.replace(/\./g, '')}`, reconnectPeriod: 500 });
      const got: Array<{ topic: string; payload: string }> = [];
      client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
      try {
        await waitUntil(() => client.connected, 'the hub container to accept the MQTT client', 120_000);
        await client.subscribeAsync('#', { qos: 1 });
        const running = (await containersOf(dir)).filter((c) => c.State === 'running').map((c) => c.Labels.service);
        for (const svc of ['localhub', 'function-manager', 'timer']) assert.ok(running.includes(svc), `${svc} runs (running: ${running.join(', ')})`);
        // The timer publishes every 10 s; the first answers include the runtimes' cold starts.
        const outputs = ['t', 't/topic', 't/py2hi', 't/py3hi', 't/node8hi', 't/sqlfilter'];
        await waitUntil(() => outputs.every((t) => got.some((x) => x.topic === t)), `a timer message and every rule's answer (got: ${JSON.stringify(got.slice(-10))})`, 240_000);
        const tick = JSON.parse(got.find((x) => x.topic === 't')!.payload) as Record<string, unknown>;
        assert.equal(typeof tick.time, 'number');
        for (const [topic, fn] of [['t/py2hi', 'python27-sayhi'], ['t/py3hi', 'python36-sayhi'], ['t/node8hi', 'node85-sayhi']] as const) {
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
    });
  });
}
