// Baetyl v1's own native example apps (branch stable/1 and tag 1.0.0), config untouched but for
// the ports: a real master starts hub, function manager, runtimes and timer; the timer's messages
// reach the hub and the function rules answer them. The examples ship no function code, so the
// tutorial's (deploy/example/native) is put in their code volumes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { BAETYL, freePort, REPO, startBaetyl, v1Examples, waitFor, type TestProcess } from '@baetyl/test-support';
import { appRunning } from '../support/master-state.js';
import { collector, watchAll } from '../support/tutorial.js';

const CORPUS = v1Examples();
const DB = 'var/db/baetyl';

/** The example in a temp workdir: its hub on free ports, and the tutorial's function code. */
async function copyV1Example(release: string): Promise<{ dir: string; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), `baetyl-v1-${release}-`));
  cpSync(join(CORPUS!, release, 'native'), dir, { recursive: true });
  const port = await freePort();
  const tlsPort = await freePort();
  const edit = (file: string, change: (text: string) => string) => {
    const path = join(dir, DB, file);
    writeFileSync(path, change(readFileSync(path, 'utf8')));
  };
  edit('localhub-conf/service.yml', (t) => t.replace('tcp://0.0.0.0:1883', `tcp://0.0.0.0:${port}`).replace('ssl://0.0.0.0:8883', `ssl://0.0.0.0:${tlsPort}`));
  for (const svc of ['function-manager-conf', 'timer-conf', 'remote-iothub-conf'])
    edit(`${svc}/service.yml`, (t) => t.replace('tcp://0.0.0.0:1883', `tcp://127.0.0.1:${port}`));
  // The cloud is gone: the (commented-out) bridge would point at a local broker instead.
  edit('remote-iothub-conf/service.yml', (t) => t.replace(/ssl:\/\/[a-z0-9.]+\.baidubce\.com:\d+/, `ssl://127.0.0.1:${tlsPort}`));
  const code = join(REPO, 'deploy/example/native', DB);
  cpSync(join(code, 'function-sayhi-code'), join(dir, DB, 'function-sayhi-code'), { recursive: true });
  cpSync(join(code, 'function-sayjs-code'), join(dir, DB, 'function-sayjs-code'), { recursive: true });
  return { dir, port };
}

const RELEASES: Array<{ release: string; timerPayload: (p: Record<string, unknown>) => void }> = [
  {
    release: 'stable-1',
    // publish.payload is a text template of v1's .Time and .Rand functions.
    timerPayload: (p) => {
      assert.match(String(p.datetime), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [+-]\d{4} \S+/);
      assert.equal(typeof p.time, 'number');
      assert.ok(Math.abs((p.time as number) - Date.now() / 1000) < 120, 'time is now, in seconds');
      assert.ok(Number.isInteger(p.id) && (p.id as number) >= 0 && (p.id as number) < 10, 'Rand.Intn 10');
      assert.ok((p.random5 as number) >= 0 && (p.random5 as number) < 60, 'Rand.Float64n 60');
      assert.equal(p.anyString, 'inputString');
    },
  },
  {
    release: '1.0.0',
    // publish.payload is the old map form.
    timerPayload: (p) => assert.equal(p.id, 1),
  },
];

for (const { release, timerPayload } of RELEASES) {
  describe(`Baetyl v1 example ${release}/native`, { skip: CORPUS ? false : 'the v1 examples corpus is not on this machine (set BAETYL_V1_EXAMPLES)' }, () => {
    let master: TestProcess;
    let dir: string;
    let port: number;
    let client: mqtt.MqttClient;

    before(async () => {
      ({ dir, port } = await copyV1Example(release));
      const check = spawnSync(process.execPath, [BAETYL, 'check', '-w', dir], { encoding: 'utf8' });
      assert.equal(check.status, 0, `baetyl check: ${check.stdout}${check.stderr}`);
      master = startBaetyl(dir);
      await waitFor('the services to run', () => appRunning(dir));
      client = await watchAll(port, `v1-${release.replace(/\./g, '')}-watcher`);
    });

    after(async () => {
      client?.end(true);
      await master?.stop();
    });

    test('every long-running service runs, and the timer publishes on t as configured', async () => {
      const status = spawnSync(process.execPath, [BAETYL, 'status', '-w', dir], { encoding: 'utf8' });
      assert.equal(status.status, 0, status.stderr);
      for (const svc of ['localhub', 'function-manager', 'timer'])
        assert.match(status.stdout, new RegExp(`^${svc}\\s+\\S+\\s+running`, 'm'), `${svc} in:\n${status.stdout}`);
      const got = collector(client);
      // The example's interval is 10s (stable-1) or v1's default.
      const msgs = await got.until((m) => m.some((x) => x.topic === 't'), 90_000);
      const tick = msgs.find((x) => x.topic === 't')!;
      timerPayload(JSON.parse(tick.payload.toString()) as Record<string, unknown>);
      got.stop();
    });

    test("the function rules answer the timer's messages, and the hub's route copies them", async () => {
      const got = collector(client);
      const want = ['t/topic', 't/py2hi', 't/py3hi', 't/node8hi'];
      const msgs = await got.until((m) => want.every((t) => m.some((x) => x.topic === t)), 120_000);
      for (const [topic, fn] of [
        ['t/py2hi', 'python2-sayhi'],
        ['t/py3hi', 'python3-sayhi'],
        ['t/node8hi', 'node8-sayhi'],
      ] as const) {
        const out = JSON.parse(msgs.find((x) => x.topic === topic)!.payload.toString()) as Record<string, unknown>;
        assert.equal(out.Say, 'Hello Baetyl', topic);
        assert.equal(out.functionName, fn, topic);
        assert.equal(out.messageTopic, 't', topic);
        timerPayload(out);
      }
      got.stop();
    });
  });
}
