// Every listener kind at once (tcp, ssl, ws, wss), with MQTT.js and, where installed, mosquitto.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makePki, type Pki } from './certs.js';
import { connect, endAll, openConfig, record, startHubProcess, stopProcesses, subscribe, tempDir, waitFor, type HubProcess } from '@baetyl/test-support';

const run = promisify(execFile);
const hasMosquitto = spawnSync('sh', ['-c', 'command -v mosquitto_pub && command -v mosquitto_sub']).status === 0;
// CI installs the clients and sets this, so that the test cannot silently skip there.
if (process.env.BAETYL_REQUIRE_MOSQUITTO === '1' && !hasMosquitto)
  throw new Error('BAETYL_REQUIRE_MOSQUITTO=1 but mosquitto_pub/mosquitto_sub are not on PATH');

describe('listeners', () => {
  let hub: HubProcess;
  let pki: Pki;
  before(async () => {
    const dir = tempDir('hub-test-');
    pki = makePki(join(dir, 'pki'));
    hub = await startHubProcess({
      dir,
      config: openConfig(
        ['tcp://127.0.0.1:0', 'ssl://127.0.0.1:0', 'ws://127.0.0.1:0/mqtt', 'wss://127.0.0.1:0/mqtt'],
        `certificate:\n  ca: pki/ca.pem\n  cert: pki/server.pem\n  key: pki/server.key\n`,
      ),
    });
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });

  it('serves tcp, ssl, ws and wss together, routing between them', async () => {
    const auth = { username: 'test', password: 'hahaha' };
    const tlsOpts = { ca: pki.ca, rejectUnauthorized: true, servername: 'localhost' };
    const clients = {
      tcp: await connect(hub.url('tcp'), auth),
      ssl: await connect(hub.url('ssl').replace('ssl://', 'mqtts://'), { ...auth, ...tlsOpts }),
      ws: await connect(hub.url('ws'), auth),
      wss: await connect(hub.url('wss'), { ...auth, ...tlsOpts }),
    };
    const got = Object.fromEntries(Object.entries(clients).map(([k, c]) => [k, record(c)]));
    for (const c of Object.values(clients)) await subscribe(c, 'fan/#', 1);
    for (const [name, c] of Object.entries(clients)) await c.publishAsync(`fan/${name}`, `from ${name}`, { qos: 1 });
    for (const [name, list] of Object.entries(got)) {
      await waitFor(`4 messages on ${name}`, () => list.length === 4);
      assert.deepEqual(list.map((m) => m.topic).sort(), ['fan/ssl', 'fan/tcp', 'fan/ws', 'fan/wss']);
    }
  });

  it('is refused by a TLS client that lacks the CA of the hub certificate', async () => {
    // The hub's certificate is checked by clients: without the CA, MQTT.js refuses it.
    await assert.rejects(connect(hub.url('ssl').replace('ssl://', 'mqtts://'), { username: 'test', password: 'hahaha', rejectUnauthorized: true }));
  });

  it(
    'works with mosquitto_pub and mosquitto_sub over tcp and ssl',
    { skip: hasMosquitto ? false : 'mosquitto_pub/mosquitto_sub not installed (apt-get install -y mosquitto-clients)' },
    async () => {
      const tcp = new URL(hub.url('tcp').replace('tcp://', 'http://'));
      const ssl = new URL(hub.url('ssl').replace('ssl://', 'http://'));
      const common = ['-h', '127.0.0.1', '-u', 'test', '-P', 'hahaha'];
      const watcher = await connect(hub.url('tcp'), { username: 'test', password: 'hahaha' });
      const seen = record(watcher);
      await subscribe(watcher, 'mosq/#', 1);
      const sub = run('mosquitto_sub', [
        ...common,
        '-p',
        ssl.port,
        '--cafile',
        pki.caPath,
        '-t',
        'mosq/#',
        '-C',
        '2',
        '-v',
        '-W',
        '30',
        '-q',
        '1',
        '-i',
        'mosqsub',
      ]);
      // Publish until the subscriber is surely subscribed: its subscription is visible to the hub's metrics only
      // indirectly, so retry the pair of publishes until mosquitto_sub has its two messages.
      let result: { stdout: string } | undefined;
      sub.then(
        (r) => (result = r),
        () => undefined,
      );
      let n = 0;
      while (!result && n < 100) {
        await run('mosquitto_pub', [...common, '-p', tcp.port, '-t', 'mosq/a', '-m', 'hello', '-q', '1']);
        n++;
        await new Promise((r) => setTimeout(r, 100));
      }
      await sub;
      assert.match(result!.stdout, /mosq\/a hello/);
      await waitFor('the MQTT.js watcher to see mosquitto_pub', () => seen.some((m) => m.topic === 'mosq/a' && m.payload === 'hello'));
      // Wrong password: mosquitto_pub reports the refusal and exits non-zero.
      const bad = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', tcp.port, '-u', 'test', '-P', 'nope', '-t', 'x', '-m', 'y'], { encoding: 'utf8' });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /not authori[sz]ed|bad user name or password|refused/i);
    },
  );
});
