// MQTT 3.1.1 rules where a server must close the connection (or refuse in CONNACK) and aedes
// alone would not: strings that are not UTF-8 or hold U+0000, SUBSCRIBE/UNSUBSCRIBE with no
// topic, contradictory CONNECT flags. Raw bytes, since MQTT.js will not send them. The statement
// ids are in the test names; docs/hub.md's conformance table points here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import type { MqttClient } from 'mqtt';
import { openConfig, startHubProcess, stopAllHubs, type HubProcess } from './hub-process.js';
import { connect, endAll, record, subscribe, waitFor, type Received } from './mqtt-client.js';
import { connectPacket, PINGREQ, PINGRESP, publishPacket, rawConnect, readBytes, readUntilClosed, subscribePacket, unsubscribePacket } from './raw.js';

const auth = { username: 'test', password: 'hahaha' };
const NOT_UTF8 = [
  Buffer.from([0x61, 0x2f, 0xff]), // a byte that never occurs in UTF-8
  Buffer.from([0x61, 0x2f, 0xc0, 0xaf]), // an overlong "/"
  Buffer.from([0x61, 0x2f, 0xed, 0xa0, 0x80]), // a surrogate, U+D800
  Buffer.from([0x61, 0x2f, 0xe2, 0x82]), // a sequence cut short
];

describe('MQTT 3.1.1 conformance', () => {
  let hub: HubProcess;
  let bystander: MqttClient;
  let seen: Received[];
  let n = 0;
  before(async () => {
    hub = await startHubProcess({ config: openConfig() });
    bystander = await connect(hub.url('tcp'), { ...auth, clientId: 'bystander' });
    seen = record(bystander);
    await subscribe(bystander, '#', 1);
  });
  after(async () => {
    await endAll();
    await stopAllHubs();
  });

  async function connected(): Promise<net.Socket> {
    const s = await rawConnect(hub.url('tcp'));
    s.write(connectPacket({ clientId: `raw${++n}`, ...auth }));
    assert.deepEqual([...(await readBytes(s, 4))], [0x20, 0x02, 0x00, 0x00]);
    return s;
  }

  /** Sends `bytes` on a connected client; resolves with what the hub sent before closing. */
  async function answerBeforeClose(bytes: Buffer, oneByteAtATime = false): Promise<Buffer> {
    const s = await connected();
    const done = readUntilClosed(s);
    if (oneByteAtATime) {
      for (const b of bytes) await new Promise<void>((ok) => s.write(Buffer.from([b]), () => ok()));
    } else s.write(bytes);
    return done;
  }

  /** The hub still routes, and the bystander (subscribed to #) got nothing with U+FFFD in it. */
  async function stillServing(): Promise<void> {
    const c = await connect(hub.url('tcp'), auth);
    const topic = `alive/${++n}`;
    await c.publishAsync(topic, 'yes', { qos: 1 });
    await waitFor(`${topic} at the bystander`, () => seen.some((m) => m.topic === topic));
    c.end(true);
    assert.ok(!seen.some((m) => m.topic.includes('\ufffd')), `nothing forwarded with U+FFFD: ${seen.map((m) => m.topic).join(', ')}`);
  }

  it('closes, without PUBACK, a connection that publishes on a topic that is not UTF-8, and forwards nothing [MQTT-1.5.3-1]', async () => {
    for (const topic of NOT_UTF8) {
      assert.equal((await answerBeforeClose(publishPacket(topic, Buffer.from('x'), 1, 7))).length, 0, `no PUBACK for ${topic.toString('hex')}`);
      assert.equal((await answerBeforeClose(publishPacket(topic, Buffer.from('x')))).length, 0);
    }
    await stillServing();
    assert.match(hub.output(), /connection closed: PUBLISH topic: it is not well-formed UTF-8 \[MQTT-1.5.3-1\]/);
  });

  it('closes, without SUBACK, a connection that subscribes to a filter that is not UTF-8 [MQTT-1.5.3-1]', async () => {
    for (const filter of NOT_UTF8) {
      assert.equal((await answerBeforeClose(subscribePacket(3, ['ok/1', filter], 1))).length, 0, `no SUBACK for ${filter.toString('hex')}`);
    }
    assert.equal((await answerBeforeClose(unsubscribePacket(4, [NOT_UTF8[0]!]))).length, 0, 'no UNSUBACK');
    await stillServing();
  });

  it('closes, with no answer, a connection whose topic or filter contains U+0000 [MQTT-1.5.3-2]', async () => {
    const nul = Buffer.from('a/\u0000b');
    assert.equal((await answerBeforeClose(subscribePacket(3, [nul], 1))).length, 0, 'no SUBACK (0x80 was the old answer)');
    assert.equal((await answerBeforeClose(unsubscribePacket(4, [nul]))).length, 0, 'no UNSUBACK');
    assert.equal((await answerBeforeClose(publishPacket(nul, Buffer.from('x'), 1))).length, 0, 'no PUBACK');
    await stillServing();
  });

  it('closes, without UNSUBACK, a connection that sends an UNSUBSCRIBE with no topic filter [MQTT-3.10.3-2]', async () => {
    assert.equal((await answerBeforeClose(unsubscribePacket(5, []))).length, 0);
    assert.match(hub.output(), /connection closed: an UNSUBSCRIBE with no topic filter/);
  });

  it('closes, without SUBACK, a connection that sends a SUBSCRIBE with no topic filter [MQTT-3.8.3-3]', async () => {
    assert.equal((await answerBeforeClose(subscribePacket(6, []))).length, 0);
  });

  it('closes, without SUBACK, a connection that subscribes to a malformed filter (Baetyl answered 0x80) [MQTT-4.7.1-2, MQTT-4.7.1-3, MQTT-4.7.3-1]', async () => {
    for (const filter of ['a/#/b', 'a/b#', 'x+/y', '']) {
      assert.equal((await answerBeforeClose(subscribePacket(3, ['ok/1', filter], 1))).length, 0, `no SUBACK for ${JSON.stringify(filter)}`);
      assert.equal((await answerBeforeClose(unsubscribePacket(4, [filter]))).length, 0, `no UNSUBACK for ${JSON.stringify(filter)}`);
    }
    assert.match(hub.output(), /connection closed: SUBSCRIBE topic filter 2: # must be a whole level/);
    await stillServing();
  });

  it('closes a connection that sends packet id 0 in a QoS 1 PUBLISH, a SUBSCRIBE or an UNSUBSCRIBE [MQTT-2.3.1-1]', async () => {
    assert.equal((await answerBeforeClose(publishPacket('id/zero', Buffer.from('x'), 1, 0))).length, 0, 'no PUBACK');
    assert.equal((await answerBeforeClose(subscribePacket(0, ['id/zero'], 1))).length, 0, 'no SUBACK');
    assert.equal((await answerBeforeClose(unsubscribePacket(0, ['id/zero']))).length, 0, 'no UNSUBACK');
    assert.ok(!seen.some((m) => m.topic === 'id/zero'));
  });

  it('answers CONNACK 0x01 and closes for a protocol level it does not support, 5 or 6 alike [MQTT-3.1.2-2]', async () => {
    for (const level of [5, 6, 0]) {
      const s = await rawConnect(hub.url('tcp'));
      const done = readUntilClosed(s);
      s.write(connectPacket({ ...auth, clientId: `level${level}`, level }));
      assert.deepEqual([...(await done)], [0x20, 0x02, 0x00, 0x01], `level ${level}`);
    }
  });

  it('closes without CONNACK a CONNECT whose client id, will topic or user name is not UTF-8 or holds U+0000 [MQTT-1.5.3-1, MQTT-1.5.3-2]', async () => {
    const bad = [NOT_UTF8[0]!, Buffer.from('a\u0000b')];
    for (const b of bad) {
      for (const p of [
        connectPacket({ ...auth, clientId: b }),
        connectPacket({ ...auth, clientId: 'willbad', will: { topic: b } }),
        connectPacket({ clientId: 'userbad', username: b, password: 'hahaha' }),
      ]) {
        const s = await rawConnect(hub.url('tcp'));
        const done = readUntilClosed(s);
        s.write(p);
        assert.equal((await done).length, 0, `no CONNACK for ${p.toString('hex')}`);
      }
    }
    await stillServing();
  });

  it('closes without CONNACK a CONNECT with will QoS 3 [MQTT-3.1.2-14] or a password but no user name [MQTT-3.1.2-22]', async () => {
    for (const p of [
      connectPacket({ ...auth, clientId: 'willqos3', will: { topic: 'w/x', qos: 3 } }),
      connectPacket({ clientId: 'nouser', password: 'hahaha' }),
    ]) {
      const s = await rawConnect(hub.url('tcp'));
      const done = readUntilClosed(s);
      s.write(p);
      assert.equal((await done).length, 0, `no CONNACK for ${p.toString('hex')}`);
    }
  });

  it('checks packets split across reads: a good QoS 1 PUBLISH sent byte by byte is acknowledged, a bad one closes', async () => {
    const s = await connected();
    const byByte = async (bytes: Buffer) => {
      for (const b of bytes) await new Promise<void>((ok) => s.write(Buffer.from([b]), () => ok()));
    };
    await byByte(publishPacket('caf\u00e9/\u{1f600}', Buffer.from('fine'), 1, 9));
    assert.deepEqual([...(await readBytes(s, 4))], [0x40, 0x02, 0x00, 0x09]);
    await waitFor('the good message at the bystander', () => seen.some((m) => m.topic === 'caf\u00e9/\u{1f600}'));
    const done = readUntilClosed(s);
    await byByte(publishPacket(NOT_UTF8[1]!, Buffer.alloc(300, 1), 1, 10)).catch(() => undefined);
    assert.equal((await done).length, 0);
  });

  it('keeps a leading U+FEFF in a topic: it is not stripped [MQTT-1.5.3-3]', async () => {
    const s = await connected();
    s.write(publishPacket('\ufeffbom/x', Buffer.from('bom'), 1, 11));
    assert.deepEqual([...(await readBytes(s, 4))], [0x40, 0x02, 0x00, 0x0b]);
    await waitFor('the BOM topic at the bystander', () => seen.some((m) => m.payload === 'bom'));
    assert.equal(seen.find((m) => m.payload === 'bom')!.topic, '\ufeffbom/x');
    s.write(PINGREQ);
    assert.deepEqual(await readBytes(s, 2), PINGRESP, 'the connection stays open');
    s.destroy();
  });
});
