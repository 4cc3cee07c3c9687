// The cloud case: the remote over TLS, with a client certificate the broker requires (mosquitto
// `require_certificate true`, the certificate's CN as user name), and certificate paths relative
// to the service directory as in Baetyl v1's example (var/db/baetyl/cert/...).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, distinct, endClients, recorder } from './fixtures/clients.js';
import { makePki, type Pki } from './fixtures/pki.js';
import { cleanUp, mosquittoSkip, startBridge, startHub, startMosquitto, tempDir, type Hub, type Mosquitto, type Proc } from './fixtures/procs.js';

const skip = mosquittoSkip();

describe('remote-mqtt over TLS with client certificates', { skip }, () => {
  let pki: Pki;
  let hub: Hub;
  let cloud: Mosquitto;
  let bridge: Proc;
  let tester: { ca: Buffer; cert: Buffer; key: Buffer };
  before(async () => {
    pki = makePki(tempDir('rm-pki-'));
    cloud = await startMosquitto({ tls: { ca: pki.ca, ...pki.server } });
    hub = await startHub();
    const dir = tempDir('rm-bridge-tls-');
    const certs = join(dir, 'var/db/baetyl/cert');
    mkdirSync(certs, { recursive: true });
    const device = pki.client('edge-device');
    copyFileSync(pki.ca, join(certs, 'ca.pem'));
    copyFileSync(device.cert, join(certs, 'client.pem'));
    copyFileSync(device.key, join(certs, 'client.key'));
    const t = pki.client('tester');
    tester = { ca: readFileSync(pki.ca), cert: readFileSync(t.cert), key: readFileSync(t.key) };
    bridge = startBridge(
      dir,
      `hub:
  address: ${hub.url}
  username: test
  password: hahaha
remotes:
  - name: iothub
    address: 'ssl://127.0.0.1:${cloud.port}'
    clientid: edge-device-1
    ca: var/db/baetyl/cert/ca.pem
    cert: var/db/baetyl/cert/client.pem
    key: var/db/baetyl/cert/client.key
rules:
  - hub:
      subscriptions:
        - topic: t
          qos: 1
    remote:
      name: iothub
      subscriptions:
        - topic: t/remote
          qos: 1
logger:
  level: debug
`,
    );
    await bridge.waitFor(/subscribed on the hub to t \(QoS 1\)/);
    await bridge.waitFor(/subscribed on the remote \\"iothub\\" to t\/remote \(QoS 1\)/);
  });
  after(async () => {
    await endClients();
    await cleanUp();
  });

  it('forwards QoS 1 both ways over TLS', async () => {
    const tls = { ...tester, rejectUnauthorized: true };
    const atCloud = await recorder(cloud.url, ['t'], tls);
    const atHub = await recorder(hub.url, ['t/remote'], { username: 'test', password: 'hahaha' });
    const toHub = await connect(hub.url, { username: 'test', password: 'hahaha' });
    const toCloud = await connect(cloud.url, tls);
    const n = 50;
    await Promise.all(
      Array.from({ length: n }, (_, i) => [toHub.publishAsync('t', `u${i}`, { qos: 1 }), toCloud.publishAsync('t/remote', `d${i}`, { qos: 1 })]).flat(),
    );
    await atCloud.until((r) => distinct(r, 't').size === n, 30_000, `${n} messages at the cloud`);
    await atHub.until((r) => distinct(r, 't/remote').size === n, 30_000, `${n} messages at the hub`);
    assert.ok([...atCloud.received, ...atHub.received].every((m) => m.qos === 1));
  });

  it('a broker that wants a client certificate refuses a connection without one', async () => {
    // The test's own check that mosquitto really requires one (else the test above proves nothing).
    await assert.rejects(connect(cloud.url, { ca: tester.ca, reconnectPeriod: 0, connectTimeout: 5000 }));
  });
});
