// The rules the two pools of the call path share: the function manager's pool of runtime
// instances (function-manager/src/pool/pool.ts) and a node85 runtime's pool of worker threads
// (runtime/src/host/pool.ts). Both lend members (instances, workers) to calls, and use the same
// words for it:
//   - a call is `waiting` until the pool's `dispatch` gives it a member, chosen by pickMember();
//   - `load` is the calls a member has now (0: it is idle), `lastUsed` when it last finished one;
//   - calls left waiting make the pool `grow`: membersToStart() says by how many, counting the
//     members `starting` as covering their share;
//   - a member taken out of service is `retired`: it gets no new calls and stops once its own end.
// Each pool keeps what is its own: the manager starts instances through the master API and
// keeps instance.min warm; a runtime pipelines calls of fast functions and kills a worker at a
// deadline (@baetyl/core/function/deadlines.ts).

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
}

/**
 * The member the next call goes to: an idle one, the most recently used first (so that the others
 * go idle and can be stopped); else the least loaded one with room (the first of equals).
 */
export function pickMember<M>(members: Iterable<M>, view: MemberView<M>): M | undefined {
  let idle: M | undefined;
  let idleUsed = -Infinity;
  let busy: M | undefined;
  let busyLoad = Infinity;
  for (const m of members) {
    if (view.usable && !view.usable(m)) continue;
    const load = view.load(m);
    if (load === 0) {
      const used = view.lastUsed(m);
      if (used > idleUsed) {
        idle = m;
        idleUsed = used;
      }
    } else if (load < busyLoad && view.hasRoom(m, load)) {
      busy = m;
      busyLoad = load;
    }
  }
  return idle ?? busy;
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
