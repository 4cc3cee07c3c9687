// Damages a valid packet the ways a broken client or a bad link would: flipped bits, bytes
// inserted or deleted, a wrong remaining length, a cut, a wrong type or flags.
import { handBuilt } from '@baetyl/test-support';
import type { Random } from './random.js';

function remainingLengthEnd(p: Buffer): number {
  let i = 1;
  while (i < p.length && i < 5 && (p[i]! & 0x80) !== 0) i++;
  return Math.min(i + 1, p.length);
}

const MUTATIONS: Array<(r: Random, p: Buffer) => Buffer> = [
  // a bit flipped
  (r, p) => {
    const q = Buffer.from(p);
    const at = r.int(q.length);
    q[at] = q[at]! ^ (1 << r.int(8));
    return q;
  },
  // a byte replaced
  (r, p) => {
    const q = Buffer.from(p);
    q[r.int(q.length)] = r.int(256);
    return q;
  },
  // bytes inserted
  (r, p) => {
    const at = r.int(p.length + 1);
    return Buffer.concat([p.subarray(0, at), r.bytes(1 + r.int(8)), p.subarray(at)]);
  },
  // bytes deleted
  (r, p) => {
    const at = r.int(p.length);
    return Buffer.concat([p.subarray(0, at), p.subarray(at + 1 + r.int(8))]);
  },
  // the remaining length off by a little, or anything
  (r, p) => {
    const end = remainingLengthEnd(p);
    const body = p.length - end;
    const n = r.chance(0.7) ? Math.max(0, body + r.int(9) - 4) : r.int(268_435_455);
    return Buffer.concat([p.subarray(0, 1), handBuilt.remainingLength(n), p.subarray(end)]);
  },
  // cut short
  (r, p) => p.subarray(0, r.int(p.length)),
  // a slice repeated
  (r, p) => {
    const at = r.int(p.length);
    const len = 1 + r.int(Math.min(16, p.length - at));
    return Buffer.concat([p.subarray(0, at + len), p.subarray(at, at + len), p.subarray(at + len)]);
  },
  // another packet type or other flags
  (r, p) => {
    const q = Buffer.from(p);
    q[0] = r.chance(0.5) ? (r.int(16) << 4) | (q[0]! & 0x0f) : (q[0]! & 0xf0) | r.int(16);
    return q;
  },
];

/** One to three mutations of `packet`. */
export function mutate(r: Random, packet: Buffer): Buffer {
  let p = packet;
  const n = 1 + r.int(3);
  for (let i = 0; i < n && p.length > 0; i++) p = r.pick(MUTATIONS)(r, p);
  return p;
}
