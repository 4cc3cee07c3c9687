// Bad bytes close only the connection that sent them; everyone else keeps being served.
// Also: keep-alive is enforced, and a consumer that stops reading cannot hold up the others.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import {
  closed,
  connect,
  connectPacket,
  endAll,
  handBuilt,
  openConfig,
  publishPacket,
  rawConnect,
  readBytes,
  readUntilClosed,
  record,
  startHubProcess,
  stopProcesses,
  subscribe,
  subscribePacket,
  waitFor,
  type HubProcess,
  type Received,
} from '@baetyl/test-support';

const auth = { username: 'test', password: 'hahaha' };

describe('bad input', () => {
  let hub: HubProcess;
  let bystander: MqttClient;
  let seen: Received[];
  let round = 0;
  before(async () => {
    hub = await startHubProcess({ config: openConfig(['tcp://127.0.0.1:0', 'ws://127.0.0.1:0/mqtt'], 'message:\n  length:\n    max: 1k\n') });
    bystander = await connect(hub.url('tcp'), { ...auth, clientId: 'bystander' });
    seen = record(bystander);
    await subscribe(bystander, 'alive/#', 1);
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });

  // The hub still serves: a fresh client publishes, the long-lived bystander receives.
  async function stillServing(): Promise<void> {
    const c = await connect(hub.url('tcp'), auth);
    const topic = `alive/${++round}`;
    await c.publishAsync(topic, 'yes', { qos: 1 });
    await waitFor(`${topic} at the bystander`, () => seen.some((m) => m.topic === topic));
    c.end(true);
  }

  async function closesAfter(bytes: Buffer, afterConnect = false): Promise<Buffer> {
    const s = await rawConnect(hub.url('tcp'));
    let connack: Buffer = Buffer.alloc(0);
    if (afterConnect) {
      s.write(connectPacket({ clientId: `raw${round}`, ...auth }));
      connack = await readBytes(s, 4);
    }
    const done = readUntilClosed(s);
    s.write(bytes);
    return Buffer.concat([connack, await done]);
  }

  it('closes a connection that sends garbage', async () => {
    await closesAfter(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closesAfter(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01]));
    await stillServing();
  });

  it('closes a connection whose first packet is not CONNECT', async () => {
    await closesAfter(Buffer.from([0xc0, 0x00])); // PINGREQ
    await closesAfter(publishPacket('alive/x', Buffer.from('sneaky')));
    await stillServing();
    assert.ok(!seen.some((m) => m.payload === 'sneaky'));
  });

  it('closes a connection that sends a packet over message.length.max, before reading it all', async () => {
    const got = await closesAfter(publishPacket('alive/big', Buffer.alloc(2000)), true);
    assert.equal(got[0], 0x20); // it was connected first
    // a header announcing 100 MB is refused at once
    await closesAfter(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x30]), true);
    const c = await connect(hub.url('ws'), auth);
    c.publish('alive/big', Buffer.alloc(5000));
    await closed(c);
    await stillServing();
    assert.ok(!seen.some((m) => m.topic === 'alive/big'));
  });

  it('closes a connection that sends malformed packets', async () => {
    await closesAfter(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])); // 5-byte remaining length
    await closesAfter(handBuilt.frame(1, 0, Buffer.from([0x00, 0x04, 0x58, 0x58, 0x58, 0x58, 0x04, 0x02, 0x00, 0x00]))); // protocol "XXXX"
    await closesAfter(handBuilt.frame(8, 0, Buffer.from([0x00, 0x01])), true); // SUBSCRIBE with wrong flags and no filter
    await closesAfter(connectPacket({ clientId: 'twice', ...auth }), true); // a second CONNECT
    await stillServing();
  });

  it('enforces keep-alive: a silent client is closed after 1.5 x its keep-alive', async () => {
    const s = await rawConnect(hub.url('tcp'));
    const done = readUntilClosed(s);
    s.write(connectPacket({ clientId: 'sleepy', ...auth, keepalive: 1 }));
    const got = await done;
    assert.deepEqual([...got.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00]);
    await waitFor('the keep-alive log line', () => /timed out/.test(hub.output()));
    await stillServing();
  });
});

describe('slow consumers', () => {
  let hub: HubProcess;
  before(async () => {
    hub = await startHubProcess({
      config: openConfig(['tcp://127.0.0.1:0'], 'message:\n  length:\n    max: 128k\n  egress:\n    drain:\n      timeout: 2s\n    bytes:\n      max: 64m\n'),
    });
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });

  it('disconnects a consumer that stops reading, and keeps delivering to the others', async () => {
    const frozen = await rawConnect(hub.url('tcp'));
    frozen.on('error', () => undefined);
    frozen.write(connectPacket({ clientId: 'frozen', ...auth }));
    await readBytes(frozen, 4);
    frozen.write(subscribePacket(1, ['load/#'], 1));
    await readBytes(frozen, 5);
    frozen.pause(); // never reads again
    const good = await connect(hub.url('tcp'), auth);
    const got = record(good);
    await subscribe(good, 'load/#', 1);
    const pub = await connect(hub.url('tcp'), auth);
    const n = 300;
    const body = Buffer.alloc(100 * 1024, 1);
    // One at a time, so this process keeps reading for the good consumer. The frozen consumer's
    // messages wait in its own queue (under bytes.max), until the drain timeout drops it.
    for (let i = 0; i < n; i++) await pub.publishAsync('load/x', body, { qos: 1 });
    await waitFor(`${n} messages at the reading consumer`, () => got.length >= n, 120_000).catch((err: Error) => {
      throw new Error(`${err.message} (got ${got.length}); the hub's log ends with:\n${hub.output().slice(-4000)}`);
    });
    await waitFor('the frozen consumer to be dropped', () => /msg="client closed: drain timeout" client=frozen/.test(hub.output()));
    frozen.destroy();
  });
});
