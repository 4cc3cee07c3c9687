// The shared helpers keep their promises: a wait names what it waited for, raw packets parse
// back to what was asked for, a process's exit ends a wait for its output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canConnect,
  connectPacket,
  freePort,
  handBuilt,
  packetReader,
  publishPacket,
  serviceDir,
  startProcess,
  stopProcesses,
  subscribePacket,
  tempDir,
  waitFor,
  type Packet,
} from '../src/index.js';

function parse(bytes: Buffer): Packet[] {
  const out: Packet[] = [];
  packetReader((p) => out.push(p)).feed(bytes);
  return out;
}

test('waitFor resolves with the first truthy value, and times out naming what it waited for and the detail', async () => {
  let n = 0;
  assert.equal(await waitFor('three polls', () => (++n >= 3 ? n : undefined), 5_000), 3);
  await assert.rejects(
    waitFor(
      'never',
      () => false,
      200,
      () => 'the detail',
    ),
    /timed out after 200 ms waiting for never\nthe detail/,
  );
});

test('raw packets from mqtt-packet parse back to what was asked for; hand-built frames carry the right length', () => {
  const [c] = parse(connectPacket({ clientId: 'c1', username: 'u', password: 'p', clean: false, keepalive: 30 }));
  assert.equal(c?.cmd, 'connect');
  assert.deepEqual(c && c.cmd === 'connect' ? [c.clientId, c.username, String(c.password), c.clean, c.keepalive] : [], ['c1', 'u', 'p', false, 30]);
  const [p] = parse(publishPacket('a/b', Buffer.from('hi'), 1, 300));
  assert.deepEqual(p && p.cmd === 'publish' ? [p.topic, String(p.payload), p.qos, p.messageId] : [], ['a/b', 'hi', 1, 300]);
  const [s] = parse(subscribePacket(7, ['x/#'], 1));
  assert.deepEqual(s && s.cmd === 'subscribe' ? [s.messageId, s.subscriptions] : [], [7, [{ topic: 'x/#', qos: 1 }]]);
  // The same CONNECT byte by byte, and a 200-byte body's two-byte remaining length.
  assert.deepEqual(
    handBuilt.connect({ clientId: 'c1', username: 'u', password: 'p', clean: false }),
    connectPacket({ clientId: 'c1', username: 'u', password: 'p', clean: false }),
  );
  assert.deepEqual([...handBuilt.frame(3, 0, Buffer.alloc(200)).subarray(0, 3)], [0x30, 0xc8, 0x01]);
});

test('a process: its output is waited for, its exit ends the wait, stopProcesses removes the temp dirs', async () => {
  const p = startProcess(process.execPath, ['-e', 'console.log("ready"); setTimeout(() => process.exit(3), 100)'], { name: 'the child' });
  assert.equal((await p.waitFor(/rea(dy)/))[1], 'dy');
  await assert.rejects(p.waitFor(/never/), /the child exited \(3\) before \/never\//);
  assert.equal((await p.exited).code, 3);
  const dir = serviceDir('a: 1\n', { files: { 'x/y.txt': 'z' } });
  assert.equal(readFileSync(join(dir, 'etc/baetyl/service.yml'), 'utf8'), 'a: 1\n');
  const other = tempDir('ts-test-');
  await stopProcesses();
  assert.ok(!existsSync(dir) && !existsSync(other));
});

test('freePort gives a port nothing listens on; canConnect tells a listening port', async () => {
  const port = await freePort();
  assert.equal(await canConnect(port), false);
  const p = startProcess(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`]);
  await p.waitFor(/up/);
  assert.equal(await canConnect(`127.0.0.1:${port}`), true);
  await p.kill9();
});
