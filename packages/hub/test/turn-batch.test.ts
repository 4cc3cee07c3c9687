// The store's writes grouped per event-loop turn (src/persistence/turn-batch.ts), on a real
// LevelDB in a temp dir: one batch per turn, reads that see writes not yet written, a failed
// batch failing all its writes and keeping none, writes resolving in the order asked, range
// deletes in their place, and the hub's persistence going through it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Level } from 'level';
import { removeTempDirs, tempDir } from '@baetyl/test-support';
import { TurnBatchedLevel, type LevelBackend, type WriteOp } from '../src/persistence/turn-batch.js';
import { openStore } from '../src/persistence/store.js';

after(removeTempDirs);

async function openLevel(): Promise<{ db: Level<string, Buffer>; batched: TurnBatchedLevel; writes: WriteOp[][] }> {
  const db = new Level<string, Buffer>(tempDir('baetyl-turn-batch-'), { valueEncoding: 'buffer' });
  await db.open();
  // LevelDB's own account of what it was asked to write: one event per put, del or batch.
  const writes: WriteOp[][] = [];
  db.on('write', (ops: WriteOp[]) => writes.push(ops));
  return { db, batched: new TurnBatchedLevel(db as unknown as LevelBackend), writes };
}

const b = (s: string) => Buffer.from(s);

test('the writes of one turn reach LevelDB as one batch, and resolve once it is written', async () => {
  const { db, batched, writes } = await openLevel();
  await db.put('gone', b('old'));
  writes.length = 0;
  const done: Array<Promise<void>> = [];
  for (let i = 0; i < 100; i++) done.push(batched.put(`k:${String(i).padStart(3, '0')}`, b(`v${i}`)));
  done.push(batched.del('gone'));
  done.push(batched.batch([{ type: 'put', key: 'array', value: b('a') }]));
  done.push(batched.batch().put('chained', b('c')).del('k:000').write());
  let resolvedEarly = false;
  void done[0]!.then(() => {
    resolvedEarly = writes.length === 0;
  });
  await Promise.all(done);
  assert.equal(resolvedEarly, false, 'no write resolves before LevelDB took its batch');
  assert.equal(writes.length, 1, 'one LevelDB write for the whole turn');
  assert.equal(writes[0]!.length, 103, 'k:000 written and deleted in the turn is one op, the del');
  assert.equal(batched.batches, 1);
  assert.equal(await db.get('gone'), undefined);
  assert.equal(await db.get('k:000'), undefined, 'the last write of a key wins');
  assert.equal((await db.get('k:099'))?.toString(), 'v99');
  assert.equal((await db.get('chained'))?.toString(), 'c');
  assert.equal((await db.get('array'))?.toString(), 'a');
  await batched.close();
});

test('a read sees the writes asked for before it, written or not', async () => {
  const { db, batched } = await openLevel();
  await db.put('old', b('1'));
  void batched.put('new', b('2'));
  void batched.del('old');
  const [fresh, deleted] = await Promise.all([batched.get('new'), batched.get('old')]);
  assert.equal(batched.batches, 0, 'the reads were answered before the batch went to LevelDB');
  assert.equal(fresh?.toString(), '2');
  assert.equal(deleted, undefined);
  // Range reads wait for the writes before them.
  void batched.put('r:1', b('x'));
  const seen: string[] = [];
  for await (const v of batched.values({ gte: 'r:', lt: 'r;', valueEncoding: 'buffer' })) seen.push(v.toString());
  assert.deepEqual(seen, ['x']);
  // Once written, reads go to LevelDB and still agree.
  await batched.allWritten();
  assert.equal((await batched.get('new'))?.toString(), '2');
  assert.equal(await batched.get('old'), undefined);
  await batched.close();
});

test('a failing batch rejects every write in it with its error, and keeps none of them', async () => {
  const { db, batched } = await openLevel();
  const a = batched.put('a', b('1'));
  const bad = batched.put('bad', null as unknown as Buffer);
  const c = batched.batch().put('c', b('3')).write();
  const results = await Promise.allSettled([a, bad, c]);
  const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'fulfilled'));
  assert.deepEqual(reasons, ['LEVEL_INVALID_VALUE', 'LEVEL_INVALID_VALUE', 'LEVEL_INVALID_VALUE']);
  assert.equal(await db.get('a'), undefined, 'a batch is all or nothing');
  assert.equal(await batched.get('a'), undefined, 'reads no longer see the failed writes');
  // The next turn's batch is not held up by the failed one.
  await batched.put('a', b('again'));
  assert.equal((await db.get('a'))?.toString(), 'again');
  await batched.close();
});

test('writes resolve in the order they were asked for, across turns, while batches are being written', async () => {
  const { db, batched, writes } = await openLevel();
  const resolved: number[] = [];
  const all: Array<Promise<void>> = [];
  for (let turn = 0; turn < 20; turn++) {
    for (let i = 0; i < 50; i++) {
      const n = turn * 50 + i;
      all.push(batched.put(`same`, b(String(n))).then(() => void resolved.push(n)));
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(all);
  assert.deepEqual(
    resolved,
    resolved.map((_, i) => i),
    'resolution order is call order',
  );
  assert.equal((await db.get('same'))?.toString(), '999', 'the last write wins in LevelDB');
  assert.ok(writes.length <= 20, `at most one LevelDB write per turn (${writes.length})`);
  await batched.close();
});

test('a range delete takes effect between the writes before and after it', async () => {
  const { db, batched } = await openLevel();
  await db.batch([
    { type: 'put', key: 'p:1', value: b('1') },
    { type: 'put', key: 'q:1', value: b('q') },
  ]);
  void batched.put('p:2', b('2'));
  const cleared = batched.clear({ gte: 'p:', lt: 'p;' });
  const later = batched.put('p:3', b('3'));
  assert.equal(await batched.get('p:2'), undefined, 'a read after the clear waits for it');
  assert.equal((await batched.get('p:3'))?.toString(), '3');
  await Promise.all([cleared, later]);
  const keys: string[] = [];
  for await (const k of db.keys()) keys.push(k);
  assert.deepEqual(keys, ['p:3', 'q:1']);
  // A read outside the range does not wait for the range delete.
  const order: string[] = [];
  void batched.put('q:2', b('q2'));
  const clearing = batched.clear({ gte: 'p:', lt: 'p;' }).then(() => void order.push('clear'));
  const read = batched.get('q:2').then((v) => void order.push(`get ${v?.toString()}`));
  await Promise.all([clearing, read]);
  assert.deepEqual(order, ['get q2', 'clear']);
  await batched.close();
});

test('the hub store: a message queued for many sessions is one batch, then its packet id and PUBACK work through it', async () => {
  const store = await openStore('data', tempDir('baetyl-turn-batch-store-'));
  const p = store.persistence;
  const packet = { cmd: 'publish', topic: 't', payload: b('hi'), qos: 1, retain: false, dup: false, brokerId: 'broker', brokerCounter: 7 };
  const subs = Array.from({ length: 50 }, (_, i) => ({ clientId: `c${i}`, topic: 't', qos: 1 }));
  const before = store.db.batches;
  await p.outgoingEnqueueCombi(subs, packet);
  assert.equal(store.db.batches - before, 1, 'the 50 copies went in one LevelDB write');
  assert.equal(store.db.writes, 50);

  // Each session sees its copy, gets a packet id, and clears it at PUBACK.
  const client = { id: 'c3', clean: false };
  const queued: Array<{ topic: string; messageId?: number }> = [];
  for await (const m of p.outgoingStream(client)) queued.push(m as { topic: string });
  assert.deepEqual(
    queued.map((m) => m.topic),
    ['t'],
  );
  await p.outgoingUpdate(client, { ...packet, messageId: 42 });
  const cleared = await p.outgoingClearMessageId(client, { messageId: 42 });
  assert.equal((cleared as { brokerCounter?: number } | undefined)?.brokerCounter, 7);
  const left: unknown[] = [];
  for await (const m of p.outgoingStream(client)) left.push(m);
  assert.deepEqual(left, [], 'nothing left for the session after its PUBACK');
  const other: unknown[] = [];
  for await (const m of p.outgoingStream({ id: 'c4' })) other.push(m);
  assert.equal(other.length, 1, 'the other sessions keep theirs');
  await store.close();
});

test('reads of keys written lately agree with LevelDB after puts, dels, failed batches and range deletes', async () => {
  const { db, batched } = await openLevel();
  const both = async (key: string) => [(await batched.get(key))?.toString(), (await db.get(key))?.toString()];
  await batched.put('x', b('1'));
  assert.deepEqual(await both('x'), ['1', '1']);
  await batched.put('x', b('2'));
  assert.deepEqual(await both('x'), ['2', '2']);
  await batched.del('x');
  assert.deepEqual(await both('x'), [undefined, undefined]);
  await batched.put('y', b('kept'));
  await Promise.allSettled([batched.put('y', b('lost')), batched.put('bad', null as unknown as Buffer)]);
  assert.deepEqual(await both('y'), ['kept', 'kept'], 'a failed batch changes nothing a read sees');
  await batched.clear({ gte: 'y', lt: 'z' });
  assert.deepEqual(await both('y'), [undefined, undefined], 'a range delete drops what it removed');
  // More keys than are kept for reads: the oldest are read from LevelDB, and still right.
  const many = Array.from({ length: 5000 }, (_, i) => batched.put(`m:${i}`, b(String(i))));
  await Promise.all(many);
  assert.deepEqual(await both('m:0'), ['0', '0']);
  assert.deepEqual(await both('m:4999'), ['4999', '4999']);
  await batched.close();
});
