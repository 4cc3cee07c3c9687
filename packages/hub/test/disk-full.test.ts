// A subscription made while the disk is full: the hub answers 0x80 (it cannot store it), keeps
// the connection, and keeps nothing of it, so a restart loses no grant it gave. Run on a 2 MB
// tmpfs filled to the last byte; needs root (mount), skipped with the reason otherwise unless
// BAETYL_REQUIRE_TMPFS=1 (CI as root).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, endAll, openConfig, record, sessionPresent, startHubProcess, stopProcesses, subscribe, tempDir, waitFor } from '@baetyl/test-support';

const auth = { username: 'test', password: 'hahaha' };

/** Mounts a 2 MB tmpfs; undefined (with why) when this machine does not let us. */
function mountTmpfs(): { dir: string } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hub-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    return { why: `cannot mount a tmpfs (${(e.stderr?.toString() || e.message).trim()}): run as root to test the full disk` };
  }
}

/** Writes zeros to `file` until the file system refuses (ENOSPC). */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [64 * 1024, 512, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

const mounted = process.getuid?.() === 0 || process.env.BAETYL_REQUIRE_TMPFS === '1' ? mountTmpfs() : { why: 'not root: mounting a tmpfs to fill needs root' };
const skip = 'why' in mounted ? mounted.why : false;
if (skip) {
  if (process.env.BAETYL_REQUIRE_TMPFS === '1') throw new Error(`BAETYL_REQUIRE_TMPFS=1 but ${skip}`);
  console.log(`# skipping the disk-full tests: ${skip}`);
}

describe('disk full', { skip }, () => {
  const mnt = 'dir' in mounted ? mounted.dir : '';
  after(async () => {
    await endAll();
    await stopProcesses();
    if (mnt) {
      execFileSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('answers 0x80 to a persistent subscription it cannot store, keeps the connection, and a restart finds only what it granted', async () => {
    const dir = tempDir('hub-test-');
    const config = openConfig(['tcp://127.0.0.1:0'], `storage:\n  dir: ${join(mnt, 'store')}\n`);
    let hub = await startHubProcess({ dir, config });
    const filler = join(mnt, 'filler');
    fill(filler);

    // Full: the persistent session's subscription is refused, and the connection stays open.
    const keeper = await connect(hub.url('tcp'), { ...auth, clientId: 'keeper', clean: false });
    assert.deepEqual(await subscribe(keeper, 'kept/#', 1), [0x80]);
    const lost = await connect(hub.url('tcp'), { ...auth, clientId: 'lost', clean: false });
    assert.deepEqual(await subscribe(lost, 'lost/#', 1), [0x80]);
    assert.match(
      hub.output(),
      /level=error msg="subscription refused: the store cannot keep it" client=keeper .*error=.*No space left on device.* topic="kept\/#"/,
    );
    assert.ok(keeper.connected && lost.connected, 'the connections stay open');
    // Nothing was granted in memory either: a message on the topic does not reach keeper.
    const got = record(keeper);
    const pub = await connect(hub.url('tcp'), auth);
    await pub.publishAsync('kept/early', 'early', { qos: 0 });
    // A clean session's subscription needs no store, and is granted as asked.
    const clean = await connect(hub.url('tcp'), auth);
    const cleanGot = record(clean);
    assert.deepEqual(await subscribe(clean, 'kept/#', 1), [1]);
    await pub.publishAsync('kept/probe', 'probe', { qos: 0 });
    await waitFor('the clean subscriber to get the probe', () => cleanGot.some((m) => m.payload === 'probe'));
    assert.deepEqual(got, [], 'keeper got nothing: it holds no subscription');

    // Space is back: the client subscribes again and is granted, and that is stored.
    unlinkSync(filler);
    assert.deepEqual(await subscribe(keeper, 'kept/#', 1), [1]);
    await keeper.endAsync();
    await lost.endAsync();
    // lost, offline, gets nothing queued for the filter it was refused (checked after the restart).
    await pub.publishAsync('lost/before', 'not for lost', { qos: 1 });
    await pub.endAsync();
    await clean.endAsync();

    // After a restart: keeper's subscription is there (a message sent while it is offline is
    // queued for it); lost has no session, and nothing for the refused filter.
    assert.equal(await hub.stop(), 0);
    hub = await startHubProcess({ dir, config });
    const pub2 = await connect(hub.url('tcp'), auth);
    await pub2.publishAsync('kept/after', 'queued', { qos: 1 });
    await pub2.publishAsync('lost/after', 'not for lost', { qos: 1 });
    const back = await connect(hub.url('tcp'), { ...auth, clientId: 'keeper', clean: false });
    assert.equal(sessionPresent(back), true);
    const gotBack = record(back);
    await waitFor('the message queued for keeper', () => gotBack.some((m) => m.payload === 'queued'));
    assert.deepEqual(
      gotBack.map((m) => [m.topic, m.qos]),
      [['kept/after', 1]],
    );
    const lostBack = await connect(hub.url('tcp'), { ...auth, clientId: 'lost', clean: false });
    assert.equal(sessionPresent(lostBack), false, 'the refused subscription was never kept');
    // A message queued for it would come before this probe, sent on the same socket after it.
    assert.deepEqual(await subscribe(lostBack, 'probe/lost', 1), [1]);
    await pub2.publishAsync('probe/lost', 'probe', { qos: 1 });
    await waitFor('the probe', () => record(lostBack).length > 0);
    assert.deepEqual(
      record(lostBack).map((m) => m.topic),
      ['probe/lost'],
    );
  });
});
