// The lending rules both pools of the call path share (src/pool/lending.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { membersToStart, pickMember, type MemberView } from '../src/pool/lending.js';

interface M {
  name: string;
  load: number;
  lastUsed: number;
  off?: boolean;
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
