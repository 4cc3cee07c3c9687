// Waiting for a state by polling: the one way tests wait for something that has no event.
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a wait lasts by default: generous, since the machine may be busy (timing is never what a test checks). */
export const WAIT_MS = 60_000;

/** What a truthy value of T can be. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls `check` until it returns a truthy value, and resolves with that value. Fails after
 * `timeoutMs` with an error naming `what`, followed by `detail()` when given (say, a log).
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = WAIT_MS, detail?: () => string): Promise<Truthy<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Truthy<T>;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(50);
  }
}
