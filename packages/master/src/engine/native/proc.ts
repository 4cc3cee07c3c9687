// Reading /proc: process identity (start time, to tell a recorded pid from a reused one),
// process groups, and CPU and memory use.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  pgrp: number;
  /** Clock ticks spent in user and kernel mode. */
  cpuTicks: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  startTicks: number;
  rssPages: number;
}

export const CLOCK_TICKS = 100;
export const PAGE_SIZE = 4096;

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const f = (n: number) => Number(rest[n - 3]);
  if (rest[0] === 'Z') return undefined;
  return { pid, pgrp: f(5), cpuTicks: f(14) + f(15), startTicks: f(22), rssPages: f(24) };
}

/** Every live process in a process group. */
export function groupMembers(pgid: number): ProcStat[] {
  const out: ProcStat[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (st && st.pgrp === pgid) out.push(st);
  }
  return out;
}

/** Signals a whole process group, ignoring one that is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
