// Restart delays: min * factor^attempt, capped at max, with jitter so instances that crashed
// together do not restart in lockstep. Unlike Baetyl v1, the caller resets it after a healthy run.
import type { RestartSpec } from '../app/model.js';

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly spec: RestartSpec['backoff'],
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next restart, in milliseconds. */
  next(): number {
    const { min, max, factor } = this.spec;
    const base = Math.min(max, min * factor ** this.attempt);
    this.attempt++;
    // +/-20% jitter, kept within [min, max].
    const jittered = base * (0.8 + 0.4 * this.random());
    return Math.round(Math.min(max, Math.max(min, jittered)));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
