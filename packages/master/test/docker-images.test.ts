// The images that the docker end-to-end tests do not start through an application: here
// baetyl-remote-mqtt, run from its image between two hubs (baetyl-hub) on a network of their own,
// forwards a message each way. The images are bundles without node_modules on a base without a
// shell (docs/docker.md), so this is what shows that the bridge's bundle has all it loads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { docker, dockerSkipReason, ensureImages, uniq } from './docker-helpers.js';

const skip = await dockerSkipReason();
if (!skip && process.env.BAETYL_IMAGES_BUILT !== '1') await ensureImages(['hub', 'remote-mqtt']);

const prefix = uniq();
const network = `${prefix}-net`;
const started: string[] = [];
after(async () => {
  if (skip) return;
  for (const id of started)
    await docker
      .getContainer(id)
      .remove({ force: true })
      .catch(() => undefined);
  await docker
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
});

const hubConfig = {
  listen: ['tcp://0.0.0.0:1883'],
  principals: [
    {
      username: 'test',
      password: 'hahaha',
      permissions: [
        { action: 'pub', permit: ['#'] },
        { action: 'sub', permit: ['#'] },
      ],
    },
  ],
  logger: { level: 'debug' },
};

/** Starts `image` as `name` on the test network with `conf` at /etc/baetyl/service.yml; its 1883 published on loopback when `publish`. */
async function run(image: string, name: string, conf: object, publish: boolean): Promise<number | undefined> {
  const dir = mkdtempSync(join(tmpdir(), `baetyl-${name}-`));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'service.yml'), stringify(conf));
  const c = await docker.createContainer({
    Image: image,
    name: `${prefix}-${name}`,
    HostConfig: {
      Binds: [`${join(dir, 'etc')}:/etc/baetyl:ro`],
      NetworkMode: network,
      Init: true,
      ...(publish ? { PortBindings: { '1883/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } : {}),
    },
    ...(publish ? { ExposedPorts: { '1883/tcp': {} } } : {}),
  });
  started.push(c.id);
  await c.start();
  if (!publish) return undefined;
  const info = await c.inspect();
  return Number(info.NetworkSettings.Ports['1883/tcp']?.[0]?.HostPort);
}

async function logsOf(name: string): Promise<string> {
  const buf = (await docker.getContainer(`${prefix}-${name}`).logs({ stdout: true, stderr: true, tail: 40 })) as unknown as Buffer;
  return buf.toString('utf8');
}

/** A client of the hub at `port`, connected (retrying while the container starts). */
async function client(port: number, id: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect({ host: '127.0.0.1', port, username: 'test', password: 'hahaha', clientId: id, reconnectPeriod: 500, connectTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no CONNACK from the hub on port ${port} in 60s`)), 60_000);
    c.once('connect', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return c;
}

/** The first message on `topic` at `sub`, publishing `payload` at `pub` every second until it comes (the bridge may still be connecting). */
async function relayed(sub: mqtt.MqttClient, pub: mqtt.MqttClient, topic: string, payload: string): Promise<string> {
  await sub.subscribeAsync(topic, { qos: 1 });
  return new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => void pub.publishAsync(topic, payload, { qos: 1 }).catch(() => undefined), 1000);
    const limit = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`no message on ${topic} through the bridge in 90s`));
    }, 90_000);
    sub.on('message', (t, p) => {
      if (t !== topic) return;
      clearInterval(timer);
      clearTimeout(limit);
      resolve(p.toString());
    });
  });
}

test('baetyl-remote-mqtt from its image forwards hub -> remote and remote -> hub', { skip }, async () => {
  await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: { baetyl: 'baetyl-test' } });
  const localPort = (await run('baetyl-hub:latest', 'localhub', hubConfig, true))!;
  const cloudPort = (await run('baetyl-hub:latest', 'cloud', hubConfig, true))!;
  await run(
    'baetyl-remote-mqtt:latest',
    'bridge',
    {
      hub: { address: `tcp://${prefix}-localhub:1883`, username: 'test', password: 'hahaha' },
      remotes: [{ name: 'cloud', address: `tcp://${prefix}-cloud:1883`, clientid: 'edge-1', username: 'test', password: 'hahaha' }],
      rules: [{ hub: { subscriptions: [{ topic: 'up', qos: 1 }] }, remote: { name: 'cloud', subscriptions: [{ topic: 'down', qos: 1 }] } }],
      logger: { level: 'debug' },
    },
    false,
  );
  const local = await client(localPort, 'edge-app');
  const cloud = await client(cloudPort, 'cloud-app');
  try {
    assert.equal(
      await relayed(cloud, local, 'up', 'to the cloud').catch(async (e: Error) => assert.fail(`${e.message}\nbridge:\n${await logsOf('bridge')}`)),
      'to the cloud',
    );
    assert.equal(
      await relayed(local, cloud, 'down', 'to the edge').catch(async (e: Error) => assert.fail(`${e.message}\nbridge:\n${await logsOf('bridge')}`)),
      'to the edge',
    );
  } finally {
    local.end(true);
    cloud.end(true);
  }
});
