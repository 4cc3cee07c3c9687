// Authentication: passwords, certificate principals (the certificate must name the principal),
// client ids, protocol levels and wills, each with the CONNACK code a client sees.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makePki, type Pki } from './certs.js';
import {
  connect,
  connectPacket,
  ConnectRefused,
  handBuilt,
  endAll,
  rawConnect,
  readBytes,
  readUntilClosed,
  startHubProcess,
  stopProcesses,
  tempDir,
  type HubProcess,
} from '@baetyl/test-support';

const config = `listen:
  - tcp://127.0.0.1:0
  - ssl://127.0.0.1:0
  - wss://127.0.0.1:0/mqtt
certificate:
  ca: pki/ca.pem
  cert: pki/server.pem
  key: pki/server.key
principals:
  - username: test
    password: hahaha
    permissions:
      - action: pub
        permit: ['#']
      - action: sub
        permit: ['#']
  - username: device1
    permissions:
      - action: pub
        permit: ['device1/#']
  - username: limited
    password: secret
    permissions:
      - action: pub
        permit: ['limited/#']
`;

async function refusal(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConnectRefused, String(err));
    return err.code;
  }
  assert.fail('the connection was accepted');
}

describe('authentication', () => {
  let hub: HubProcess;
  let pki: Pki;
  let ssl: string;
  before(async () => {
    const dir = tempDir('hub-test-');
    pki = makePki(join(dir, 'pki'));
    pki.client('device1');
    pki.client('intruder');
    pki.stranger('device1');
    hub = await startHubProcess({ dir, config });
    ssl = hub.url('ssl').replace('ssl://', 'mqtts://');
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });
  const tls = () => ({ ca: pki.ca, servername: 'localhost', rejectUnauthorized: true });

  it('accepts the right username and password', async () => {
    const c = await connect(hub.url('tcp'), { username: 'test', password: 'hahaha' });
    assert.ok(c.connected);
  });

  it('answers 0x04 to a wrong password, an unknown user and a missing username', async () => {
    assert.equal(await refusal(connect(hub.url('tcp'), { username: 'test', password: 'wrong' })), 4);
    assert.equal(await refusal(connect(hub.url('tcp'), { username: 'nobody', password: 'x' })), 4);
    assert.equal(await refusal(connect(hub.url('tcp'))), 4);
  });

  it('answers 0x04 to a certificate principal without a certificate (plain tcp)', async () => {
    assert.equal(await refusal(connect(hub.url('tcp'), { username: 'device1' })), 4);
    assert.equal(await refusal(connect(ssl, { ...tls(), username: 'device1' })), 4);
  });

  it('accepts a certificate principal whose verified certificate names it (ssl and wss)', async () => {
    const cert = pki.client('device1');
    const a = await connect(ssl, { ...tls(), ...cert, username: 'device1' });
    assert.ok(a.connected);
    const b = await connect(hub.url('wss'), { ...tls(), ...cert, username: 'device1' });
    assert.ok(b.connected);
  });

  it('answers 0x05 when a verified certificate names someone else', async () => {
    assert.equal(await refusal(connect(ssl, { ...tls(), ...pki.client('intruder'), username: 'device1' })), 5);
  });

  it('refuses the TLS handshake for a certificate from an unknown CA', async () => {
    assert.equal(await refusal(connect(ssl, { ...tls(), ...pki.stranger('device1'), username: 'device1' })), undefined);
    // and the hub keeps serving
    assert.ok((await connect(ssl, { ...tls(), ...pki.client('device1'), username: 'device1' })).connected);
  });

  it('answers 0x02 to client ids over 128 characters or with other characters, accepts 128', async () => {
    const auth = { username: 'test', password: 'hahaha' };
    assert.equal(await refusal(connect(hub.url('tcp'), { ...auth, clientId: 'a'.repeat(129) })), 2);
    assert.equal(await refusal(connect(hub.url('tcp'), { ...auth, clientId: 'bad id!' })), 2);
    assert.ok((await connect(hub.url('tcp'), { ...auth, clientId: 'a'.repeat(128) })).connected);
  });

  it('answers 0x02 to an empty client id with CleanSession 0, and closes (MQTT-3.1.3-8; Baetyl accepted it)', async () => {
    // MQTT.js will not send this, so raw bytes.
    const s = await rawConnect(hub.url('tcp'));
    const done = readUntilClosed(s);
    s.write(handBuilt.connect({ clientId: '', username: 'test', password: 'hahaha', clean: false }));
    assert.deepEqual([...(await done)], [0x20, 0x02, 0x00, 0x02]);
  });

  it('accepts an empty client id with CleanSession 1 (MQTT-3.1.3-6)', async () => {
    const s = await rawConnect(hub.url('tcp'));
    s.write(connectPacket({ clientId: '', username: 'test', password: 'hahaha', clean: true }));
    assert.deepEqual([...(await readBytes(s, 4))], [0x20, 0x02, 0x00, 0x00]);
    s.destroy();
  });

  it('answers 0x01 to protocol level 5', async () => {
    const s = await rawConnect(hub.url('tcp'));
    s.write(connectPacket({ clientId: 'v5', username: 'test', password: 'hahaha', level: 5 }));
    const got = await readUntilClosed(s);
    assert.equal(got[0], 0x20);
    assert.equal(got[got.length - 1], 0x01);
  });

  it('accepts protocol level 3 (MQTT 3.1)', async () => {
    const c = await connect(hub.url('tcp'), { username: 'test', password: 'hahaha', protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'old31' });
    assert.ok(c.connected);
  });

  it('answers 0x05 to a will on a topic the principal may not publish', async () => {
    const will = { topic: 'elsewhere/x', payload: Buffer.from('bye'), qos: 0 as const, retain: false };
    assert.equal(await refusal(connect(hub.url('tcp'), { username: 'limited', password: 'secret', will })), 5);
    assert.ok((await connect(hub.url('tcp'), { username: 'limited', password: 'secret', will: { ...will, topic: 'limited/will' } })).connected);
  });

  it('closes without CONNACK a connection whose will topic is invalid', async () => {
    const will = { topic: '$SYS/x', payload: Buffer.from('bye'), qos: 0 as const, retain: false };
    assert.equal(await refusal(connect(hub.url('tcp'), { username: 'test', password: 'hahaha', will })), undefined);
  });
});
