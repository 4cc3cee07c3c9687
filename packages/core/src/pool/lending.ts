// The rules the two pools of the call path share: the function manager's pool of runtime
// instances (function-manager/src/pool/pool.ts) and a node85 runtime's pool of worker threads
// (runtime/src/host/pool.ts). Both lend members (instances, workers) to calls, and use the same
// words for it:
//   - a call is `waiting` until the pool's `dispatch` gives it a member, chosen by pickMember();
//   - `load` is the calls a member has now (0: it is idle), `lastUsed` when it last finished one;
//   - calls left waiting make the pool `grow`: membersToStart() says by how many, counting the
//     members `starting` as covering their share;
//   - a member taken out of service is `retired`: it gets no new calls and stops once its own end.
//   - a function is `fast` while its calls take under FAST_CALL_US on average, as its runtime
//     measures them (the handler's own time, never the time a call queued): CallTimes keeps that
//     average. A fast function's calls are batched: several go to one member at once, so that one
//     wake-up of the member answers them all.
// Each pool keeps what is its own: the manager starts instances through the master API, keeps
// instance.min warm, and gives a fast function's calls to as few instances as the host has cores
// (pickToBatch); a runtime pipelines calls of fast functions onto busy workers and kills a worker
// at a deadline (@baetyl/core/function/deadlines.ts).

/** How a pool shows its members to pickMember(). */
export interface MemberView<M> {
  /** Calls the member has now; 0 = idle. */
  load(member: M): number;
  /** When it last finished a call (ms), or started. */
  lastUsed(member: M): number;
  /** Whether a busy member may take one more call now (its load given). Idle members always may. */
  hasRoom(member: M, load: number): boolean;
  /** Whether the member takes calls at all (default: all do). */
  usable?(member: M): boolean;
  /** pickToBatch: whether a busy member without room counts against `spread` (default: it does). */
  counts?(member: M): boolean;
}

/** What pickMember and pickToBatch choose from, in one pass over the members. */
interface Scan<M> {
  /** The most recently used idle member. */
  idle: M | undefined;
  /** The least and the most loaded busy members with room (the first of equals). */
  least: M | undefined;
  most: M | undefined;
  /** Busy members that count (view.counts), with room or not. */
  busy: number;
}

function scan<M>(members: Iterable<M>, view: MemberView<M>): Scan<M> {
  const out: Scan<M> = { idle: undefined, least: undefined, most: undefined, busy: 0 };
  let idleUsed = -Infinity;
  let leastLoad = Infinity;
  let mostLoad = 0;
  for (const m of members) {
    if (view.usable && !view.usable(m)) continue;
    const load = view.load(m);
    if (load === 0) {
      const used = view.lastUsed(m);
      if (used > idleUsed) {
        out.idle = m;
        idleUsed = used;
      }
    } else if (view.hasRoom(m, load)) {
      out.busy++;
      if (load < leastLoad) {
        out.least = m;
        leastLoad = load;
      }
      if (load > mostLoad) {
        out.most = m;
        mostLoad = load;
      }
    } else if (view.counts?.(m) ?? true) {
      out.busy++;
    }
  }
  return out;
}

/**
 * The member the next call goes to: an idle one, the most recently used first (so that the others
 * go idle and can be stopped); else the least loaded one with room (the first of equals).
 */
export function pickMember<M>(members: Iterable<M>, view: MemberView<M>): M | undefined {
  const s = scan(members, view);
  return s.idle ?? s.least;
}

/**
 * How many members to start for the calls left waiting: each member already starting will take
 * `perMember` of them, and at most `room` more members fit in the pool.
 */
export function membersToStart(waiting: number, starting: number, perMember: number, room: number): number {
  const uncovered = waiting - starting * perMember;
  if (uncovered <= 0 || room <= 0) return 0;
  return Math.min(room, Math.ceil(uncovered / perMember));
}

/** A function whose calls take less than this on average (microseconds) is fast. */
export const FAST_CALL_US = 2000;

/**
 * The average time of a function's calls, as its runtime measured them: the plain mean of the
 * first ten (so that one cold first call weighs no more than the others), then a moving average.
 */
export class CallTimes {
  private avg = Infinity;
  private n = 0;

  constructor(private readonly fastUs = FAST_CALL_US) {}

  /** One call's handler time, microseconds. */
  note(us: number): void {
    if (!(us >= 0)) return;
    this.n++;
    if (this.n === 1) this.avg = us;
    else this.avg += (us - this.avg) / Math.min(this.n, 10);
  }

  /** How many calls were measured. */
  get count(): number {
    return this.n;
  }

  /** Infinity until a call has been measured. */
  get averageUs(): number {
    return this.avg;
  }

  get fast(): boolean {
    return this.avg <= this.fastUs;
  }
}

/**
 * The member the next call of a fast function goes to: the most loaded member with room (so that
 * calls arrive in batches); else an idle one, the most recently used, while fewer than `spread`
 * members are busy. Undefined: the call waits for room. A busy member without room counts as
 * busy unless view.counts says it does not (one that stopped answering: another takes its place).
 */
export function pickToBatch<M>(members: Iterable<M>, view: MemberView<M>, spread: number): M | undefined {
  const s = scan(members, view);
  return s.most ?? (s.busy < spread ? s.idle : undefined);
}
