import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type Schema } from '../src/config/load.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { clientInfoProperties, isSecureAddress, mqttClientOptions, type ClientInfo } from '../src/mqtt/client-info.js';

const schema: Schema = {
  type: 'object',
  properties: { hub: { type: 'object', additionalProperties: false, default: {}, properties: clientInfoProperties() } },
};
const load = (yaml: string) => parseConfig<{ hub: ClientInfo }>(yaml, 'service.yml', schema).hub;

test("v1's keepalive: -1 (no ping/pong) loads as no keep-alive, and MQTT.js gets 0", () => {
  for (const v of ['-1', '"-1s"', '-1000000000']) {
    const hub = load(`hub: {address: tcp://127.0.0.1:1883, keepalive: ${v}}`);
    assert.equal(hub.keepalive, 0, v);
    assert.equal(mqttClientOptions(hub, { cwd: '/', label: 'hub' }).keepalive, 0);
  }
});

test("ClientInfo's defaults are v1's, and a bare integer duration is Go nanoseconds", () => {
  const hub = load('hub: {clientid: c1, keepalive: 30000000000}');
  assert.deepEqual(
    { k: hub.keepalive, t: hub.timeout, i: hub.interval, b: hub.buffersize, c: hub.cleansession },
    { k: 30_000, t: 30_000, i: 60_000, b: 10, c: false },
  );
  const opts = mqttClientOptions(hub, { cwd: '/', label: 'hub' });
  assert.equal(opts.keepalive, 30);
  assert.equal(opts.clientId, 'c1');
  assert.equal(opts.clean, false);
  assert.equal(load('hub: {}').keepalive, 60_000);
});

test('an unreadable certificate names the block and the key', () => {
  const hub = load('hub: {ca: no/such/ca.pem}');
  assert.throws(() => mqttClientOptions(hub, { cwd: '/tmp', label: 'remotes[0]' }), /remotes\[0\]\.ca: cannot read \/tmp\/no\/such\/ca\.pem: ENOENT/);
});

test('the address scheme picks the MQTT.js protocol; ca/cert/key are read for TLS addresses only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-info-'));
  for (const f of ['ca.pem', 'c.pem', 'c.key']) writeFileSync(join(dir, f), f);
  const certs = 'ca: ca.pem, cert: c.pem, key: c.key';
  // MQTT.js 5 itself throws for ssl:// with a client certificate; mqtts is what it accepts.
  const ssl = mqttClientOptions(load(`hub: {address: 'ssl://127.0.0.1:8883', ${certs}}`), { cwd: dir, label: 'hub' });
  assert.equal(ssl.protocol, 'mqtts');
  assert.equal(String(ssl.cert), 'c.pem');
  assert.equal(String(ssl.ca), 'ca.pem');
  assert.equal(isSecureAddress('wss://h/mqtt'), true);
  const tcp = mqttClientOptions(load(`hub: {address: 'tcp://127.0.0.1:1883', ${certs}}`), { cwd: dir, label: 'hub' });
  assert.equal(tcp.protocol, 'mqtt');
  assert.equal(tcp.cert, undefined, 'a tcp:// address stays plain');
  assert.equal(isSecureAddress('tcp://h:1883'), false);
  assert.doesNotThrow(() => mqtt.connect('ssl://127.0.0.1:1', { ...ssl, manualConnect: true }));
});
