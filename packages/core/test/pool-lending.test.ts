// The lending rules both pools of the call path share (src/pool/lending.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallTimes, FAST_CALL_US, membersToStart, pickMember, pickToBatch, type MemberView } from '../src/pool/lending.js';

interface M {
  name: string;
  load: number;
  lastUsed: number;
  off?: boolean;
  stalled?: boolean;
}

const view = (room: number): MemberView<M> => ({
  load: (m) => m.load,
  lastUsed: (m) => m.lastUsed,
  hasRoom: (_m, load) => load < room,
  usable: (m) => !m.off,
});

test('pickMember: an idle member first, the most recently used of them', () => {
  const members: M[] = [
    { name: 'busy', load: 1, lastUsed: 50 },
    { name: 'old', load: 0, lastUsed: 10 },
    { name: 'recent', load: 0, lastUsed: 30 },
    { name: 'same', load: 0, lastUsed: 30 },
  ];
  assert.equal(pickMember(members, view(4))?.name, 'recent');
});

test('pickMember: else the least loaded member with room, the first of equals; none when none has room', () => {
  const members: M[] = [
    { name: 'three', load: 3, lastUsed: 0 },
    { name: 'two', load: 2, lastUsed: 0 },
    { name: 'two-again', load: 2, lastUsed: 0 },
    { name: 'idle-but-off', load: 0, lastUsed: 99, off: true },
  ];
  assert.equal(pickMember(members, view(4))?.name, 'two');
  assert.equal(pickMember(members, view(2)), undefined);
  assert.equal(pickMember([], view(2)), undefined);
});

test('membersToStart: the waiting calls not covered by members starting, within the room', () => {
  assert.equal(membersToStart(5, 0, 1, 10), 5);
  assert.equal(membersToStart(5, 2, 1, 10), 3);
  assert.equal(membersToStart(5, 0, 1, 2), 2);
  // Two calls each: 5 waiting need 3 members, one of which is starting.
  assert.equal(membersToStart(5, 1, 2, 10), 2);
  assert.equal(membersToStart(2, 1, 2, 10), 0);
  assert.equal(membersToStart(3, 0, 1, 0), 0);
  assert.equal(membersToStart(0, 0, 1, 5), 0);
});

const batchView = (room: number): MemberView<M> => ({
  ...view(room),
  hasRoom: (m, load) => load < room && !m.stalled,
  counts: (m) => !m.stalled,
});

test('pickToBatch: the most loaded member with room first, so calls arrive in batches', () => {
  const members: M[] = [
    { name: 'idle', load: 0, lastUsed: 90 },
    { name: 'two', load: 2, lastUsed: 0 },
    { name: 'five', load: 5, lastUsed: 0 },
    { name: 'full', load: 8, lastUsed: 0 },
  ];
  assert.equal(pickToBatch(members, batchView(8), 4)?.name, 'five');
});

test('pickToBatch: an idle member (the most recent) only while fewer than `spread` are busy; else the call waits', () => {
  const members: M[] = [
    { name: 'full-a', load: 8, lastUsed: 0 },
    { name: 'old', load: 0, lastUsed: 10 },
    { name: 'recent', load: 0, lastUsed: 30 },
  ];
  assert.equal(pickToBatch(members, batchView(8), 2)?.name, 'recent');
  const two: M[] = [...members, { name: 'full-b', load: 8, lastUsed: 0 }];
  assert.equal(pickToBatch(two, batchView(8), 2), undefined);
  assert.equal(pickToBatch(two, batchView(8), 3)?.name, 'recent');
});

test('pickToBatch: a stalled member gets nothing and does not count as busy; unusable members are skipped', () => {
  const members: M[] = [
    { name: 'stalled', load: 1, lastUsed: 0, stalled: true },
    { name: 'full', load: 8, lastUsed: 0 },
    { name: 'idle-off', load: 0, lastUsed: 50, off: true },
    { name: 'idle', load: 0, lastUsed: 20 },
  ];
  assert.equal(pickToBatch(members, batchView(8), 2)?.name, 'idle');
  assert.equal(pickToBatch(members, batchView(8), 1), undefined);
  assert.equal(pickToBatch([], batchView(8), 2), undefined);
});

test('CallTimes: unknown until measured; the mean of the first ten calls, then a moving average; fast while under the threshold', () => {
  const t = new CallTimes();
  assert.equal(t.averageUs, Infinity);
  assert.equal(t.fast, false);
  assert.equal(t.count, 0);
  // A cold first call counts no more than the next one.
  t.note(3000);
  assert.equal(t.fast, false);
  t.note(400);
  assert.equal(t.averageUs, 1700);
  assert.equal(t.fast, true);
  t.note(Number.NaN);
  t.note(-1);
  assert.equal(t.count, 2, 'nonsense is ignored');
  const m = new CallTimes();
  for (let i = 0; i < 10; i++) m.note(100);
  m.note(1100);
  assert.equal(m.averageUs, 200, 'after ten calls each new one weighs a tenth');
  // One timeout of 30 s makes the function slow at once.
  m.note(30_000_000);
  assert.ok(m.averageUs > FAST_CALL_US);
  assert.equal(m.fast, false);
  const strict = new CallTimes(50);
  strict.note(60);
  assert.equal(strict.fast, false);
});
