// The hub turns off the number cache of aedes' mqtt-packet (6 MB of heap). This pins what that
// relies on: aedes writes through the copy of mqtt-packet it resolves, and the switch keeps the
// cache empty while the two-byte numbers (topic lengths, packet ids) still go out right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHubConfig } from '../src/config/load.js';
import { startHub } from '../src/broker/hub.js';
import { aedesPacketWriter } from '../src/broker/internals.js';
// Built by hand: mqtt-packet's generate() would fill the very cache this test pins as empty.
import { handBuilt, rawConnect, readBytes } from '@baetyl/test-support';

test('aedes writes through the mqtt-packet the hub configures, with no number cache', async () => {
  const writer = aedesPacketWriter() as unknown as { writeToStream: ((...a: unknown[]) => boolean) & { cacheNumbers: boolean } };
  const original = writer.writeToStream;
  let writes = 0;
  const counting = (...a: unknown[]) => {
    writes++;
    return original(...a);
  };
  // The switch the hub sets goes through to mqtt-packet's own.
  Object.defineProperty(counting, 'cacheNumbers', { get: () => original.cacheNumbers, set: (on: boolean) => (original.cacheNumbers = on) });
  writer.writeToStream = counting as typeof original;
  const config = parseHubConfig(
    'listen: [tcp://127.0.0.1:0]\nprincipals:\n  - {username: t, password: p, permissions: [{action: pub, permit: ["#"]}, {action: sub, permit: ["#"]}]}\nlogger: {level: error}\n',
    'service.yml',
  );
  const hub = await startHub(config, { cwd: mkdtempSync(join(tmpdir(), 'hub-writer-')) });
  try {
    const s = await rawConnect(hub.addresses[0]!);
    s.write(handBuilt.connect({ clientId: 'writer', username: 't', password: 'p' }));
    assert.deepEqual([...(await readBytes(s, 4))], [0x20, 0x02, 0x00, 0x00]);
    s.write(handBuilt.subscribe(1, ['a/topic'], 1));
    assert.deepEqual([...(await readBytes(s, 5))], [0x90, 0x03, 0x00, 0x01, 0x01]);
    // 300 = 0x012c: both bytes of the packet id matter.
    s.write(handBuilt.publish('a/topic', Buffer.from('hi'), 0x02, 300));
    const got = await readBytes(s, 4 + 2 + 2 + 7 + 2 + 2);
    s.destroy();
    const puback = Buffer.from([0x40, 0x02, 0x01, 0x2c]);
    const at = got.indexOf(puback);
    assert.ok(at === 0 || at === got.length - 4, `a PUBACK for id 300 in ${got.toString('hex')}`);
    const publish = at === 0 ? got.subarray(4) : got.subarray(0, got.length - 4);
    // QoS 1 PUBLISH: topic length 7, the topic, an id of aedes' choosing, the payload.
    assert.equal(publish[0], 0x32);
    assert.deepEqual([...publish.subarray(2, 4)], [0x00, 0x07]);
    assert.equal(publish.subarray(4, 11).toString(), 'a/topic');
    assert.equal(publish.subarray(13).toString(), 'hi');
    assert.ok(writes > 0, "aedes' packets went through the mqtt-packet copy the hub switched");
    assert.equal(original.cacheNumbers, false);
    const numbers = createRequire(createRequire(import.meta.resolve('aedes').replace('file://', '')).resolve('mqtt-packet'))('./numbers.js') as {
      cache: object;
    };
    assert.equal(Object.keys(numbers.cache).length, 0, 'the number cache was not made');
  } finally {
    writer.writeToStream = original;
    await hub.close();
  }
});
