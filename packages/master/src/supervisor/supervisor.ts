// Keeps one instance running by its service's restart policy: `always`, `on-failure` (restart
// unless it exited 0) or `no`; at most `retry.max` restarts in a row, with backoff between them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@baetyl/core/log';
import type { RestartSpec } from '../app/model.js';
import { PermanentStartError, type Engine, type ExitStatus, type InstanceRequest, type RunningInstance } from '../engine/engine.js';
import { Backoff } from './backoff.js';
import { outputLevels } from './output-level.js';

export type InstanceStatus = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'exited' | 'failed';

export interface SupervisorEvents {
  /** Called on every status change, for stats and inspect. */
  changed(sup: Supervisor): void;
  /** Called once, when supervision ends for good (stopped, gave up, or exited with no restart). */
  ended(sup: Supervisor): void;
}

function lastLine(inst: RunningInstance): string {
  const last = inst
    .recentOutput()
    .filter((l) => l.trim())
    .pop();
  return last ? `; its last output: ${last.trim()}` : '';
}

export class Supervisor {
  status: InstanceStatus = 'starting';
  restarts = 0;
  startedAt?: Date;
  running?: RunningInstance;
  lastError?: string;
  /** When the next start is due, while the status is `restarting`. */
  nextStartAt?: Date;
  private stopping = false;
  private readonly wake = new AbortController();
  private readonly backoff: Backoff;
  private firstStart!: Promise<void>;
  private loop!: Promise<void>;
  /** Settles with why the first run failed (a start error, or an exit other than 0), if it did. */
  private firstRunFailed!: (why: string) => void;
  private readonly firstFailure = new Promise<string>((r) => (this.firstRunFailed = r));

  constructor(
    readonly req: InstanceRequest,
    private readonly engine: Engine,
    private readonly restart: RestartSpec,
    private readonly log: Logger,
    private readonly events: SupervisorEvents,
  ) {
    this.backoff = new Backoff(restart.backoff);
  }

  get name(): string {
    return this.req.instance;
  }

  get service(): string {
    return this.req.service.name;
  }

  /** Starts supervising; resolves after the first start attempt (whether or not it worked). */
  start(): Promise<void> {
    let first!: () => void;
    this.firstStart = new Promise<void>((r) => (first = r));
    this.loop = this.run(first);
    return this.firstStart;
  }

  private fields() {
    return { service: this.service, instance: this.name, engine: this.engine.name };
  }

  private set(status: InstanceStatus) {
    this.status = status;
    this.events.changed(this);
  }

  private async run(first: () => void): Promise<void> {
    let consecutive = 0;
    for (;;) {
      let inst: RunningInstance;
      try {
        inst = await this.engine.start(this.req);
      } catch (err) {
        const why = (err as Error).message;
        this.lastError = `failed to start: ${why}`;
        this.firstRunFailed(why);
        // A start that fails counts as a crash for the restart policy, unless retrying cannot help.
        if (err instanceof PermanentStartError || this.stopping || this.restart.policy === 'no') {
          const reason =
            err instanceof PermanentStartError
              ? 'retrying cannot help, so it is not restarted'
              : `its restart policy (${this.restart.policy}) does not restart it`;
          this.log.error(`failed to start instance: ${why}; ${this.stopping ? 'stopping' : reason}`, this.fields());
          first();
          return this.end('failed');
        }
        this.log.error(`failed to start instance: ${why}`, this.fields());
        const again = this.waitToRestart(++consecutive);
        first();
        if (!(await again)) return this.end('failed');
        continue;
      }
      this.running = inst;
      this.startedAt = new Date();
      this.lastError = undefined;
      this.log.info('instance started', { ...this.fields(), ...inst.description.logFields });
      this.set('running');
      first();
      const exit = await inst.exited;
      if (this.stopping) return this.end('stopped');
      const ranFor = Date.now() - this.startedAt.getTime();
      this.report(exit, inst);
      if (exit.code !== 0) this.firstRunFailed(`${this.lastError}${lastLine(inst)}`);
      if (!this.shouldRestart(exit)) {
        this.log.info('instance exited and its restart policy does not restart it', { ...this.fields(), policy: this.restart.policy });
        return this.end('exited');
      }
      // Baetyl v1 never reset the backoff; after a healthy run we start again from min.
      if (ranFor >= this.restart.backoff.reset) {
        this.backoff.reset();
        consecutive = 0;
      }
      if (!(await this.waitToRestart(++consecutive))) return this.end('failed');
    }
  }

  private report(exit: ExitStatus, inst: RunningInstance) {
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    this.lastError = `exited with ${how}`;
    const level = exit.code === 0 ? 'info' : 'error';
    this.log.log(level, `instance exited with ${how}`, this.fields());
    // What the instance last wrote is what its user needs to see in baetyl.log, each line at the
    // level it was written at (a hub's debug lines stay debug).
    if (exit.code !== 0) {
      const lines = inst.recentOutput().slice(-50);
      const levels = outputLevels(lines, 'error');
      lines.forEach((line, i) => this.log.log(levels[i]!, `instance (${this.name}) ${line}`, this.fields()));
    }
  }

  private shouldRestart(exit: ExitStatus): boolean {
    switch (this.restart.policy) {
      case 'no':
        return false;
      case 'on-failure':
        return exit.code !== 0;
      default:
        return true;
    }
  }

  /** Waits out the backoff; false when supervision should end instead. */
  /** Waits out the backoff; false when supervision should end instead. */
  private async waitToRestart(count: number): Promise<boolean> {
    const max = this.restart.retry.max;
    if (max > 0 && count > max) {
      this.log.error(`retry too much (${count - 1}), giving up`, this.fields());
      this.lastError = `${this.lastError ?? 'failed'}; given up after ${count - 1} restart(s) (retry.max ${max})`;
      return false;
    }
    const delay = this.backoff.next();
    this.restarts++;
    this.running = undefined;
    this.nextStartAt = new Date(Date.now() + delay);
    this.set('restarting');
    this.log.info(`instance will restart in ${delay} ms (restart ${count}${max ? ` of ${max}` : ''})`, this.fields());
    try {
      await sleep(delay, undefined, { signal: this.wake.signal });
    } catch {
      return false;
    } finally {
      this.nextStartAt = undefined;
    }
    return !this.stopping;
  }

  private end(status: InstanceStatus) {
    this.running = undefined;
    this.set(status);
    this.events.ended(this);
  }

  /**
   * Why the instance failed, if its first start failed or its first run ended other than with
   * exit code 0 within `ms` of its start; undefined once it has run that long (or was stopped).
   */
  async failedWithin(ms: number): Promise<string | undefined> {
    await this.firstStart;
    const ranFor = this.startedAt ? Date.now() - this.startedAt.getTime() : 0;
    const timer = new AbortController();
    const outcome = await Promise.race([
      this.firstFailure,
      sleep(Math.max(0, ms - ranFor), undefined, { signal: timer.signal }).then(
        () => undefined,
        () => undefined,
      ),
    ]);
    timer.abort();
    return this.stopping ? undefined : outcome;
  }

  /** Stops the instance (polite signal, then forced after grace) and ends supervision. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopping) return this.loop;
    this.stopping = true;
    this.wake.abort();
    await this.firstStart;
    const inst = this.running;
    if (inst) {
      this.set('stopping');
      this.log.info('instance is stopping', this.fields());
      await inst.stop(graceMs);
      this.log.info('instance stopped', this.fields());
    }
    await this.loop;
  }
}
