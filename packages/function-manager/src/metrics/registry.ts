// The function manager's Prometheus metrics (docs/metrics.md): per rule and function, the calls
// made to instances, their failures, retries, timeouts and latency; per function, its instances
// by state and its cold starts. Calls through server.address carry rule="".
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What one rule's (or the server's) calls of one function count; the pool calls it. */
export interface CallMetrics {
  /** A call sent to an instance ended, after `seconds`. */
  called(seconds: number, outcome: 'ok' | 'error' | 'timeout'): void;
  /** An attempt failed before any call: no instance could be had for it. */
  noInstance(): void;
  /** An attempt after the first. */
  retried(): void;
}

/** One function's pool as the instance gauges read it (FunctionPool.stats()). */
export interface PoolStats {
  /** Instances started and answering (busy or idle). */
  ready: number;
  busy: number;
  creating: number;
  /** Calls running now. */
  inflight: number;
  /** Reservations handed out. */
  reserved: number;
}

/** The latency buckets, s: from an in-process SQL call to a python cold start on a small device. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class FunctionMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'rule' | 'function'>;
  private readonly errors: Counter<'rule' | 'function'>;
  private readonly retries: Counter<'rule' | 'function'>;
  private readonly timeouts: Counter<'rule' | 'function'>;
  private readonly duration: Histogram<'rule' | 'function'>;
  private readonly coldStarts: Counter<'function'>;

  /** `pools` gives each function's pool stats when the registry is collected. */
  constructor(pools: () => Iterable<[string, PoolStats]>) {
    const registers = [this.registry];
    const labelNames = ['rule', 'function'] as const;
    this.calls = new Counter({
      name: 'baetyl_function_calls_total',
      help: 'Calls sent to function instances (each attempt of a message is one call).',
      labelNames,
      registers,
    });
    this.errors = new Counter({
      name: 'baetyl_function_errors_total',
      help: 'Attempts that failed: the call failed (timeouts included), or no instance could be started for it.',
      labelNames,
      registers,
    });
    this.retries = new Counter({
      name: 'baetyl_function_retries_total',
      help: 'Attempts after the first one of a message (rules[].retry.max).',
      labelNames,
      registers,
    });
    this.timeouts = new Counter({ name: 'baetyl_function_timeouts_total', help: "Calls that passed the function's timeout.", labelNames, registers });
    this.duration = new Histogram({
      name: 'baetyl_function_call_duration_seconds',
      help: 'How long calls to function instances took, failed ones included.',
      labelNames,
      buckets: BUCKETS,
      registers,
    });
    this.coldStarts = new Counter({
      name: 'baetyl_function_cold_starts_total',
      help: 'Instances started because a call was waiting and none had room.',
      labelNames: ['function'],
      registers,
    });
    new Gauge({
      name: 'baetyl_function_instances',
      help: 'Instances of each function, by state (starting, idle, busy).',
      labelNames: ['function', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [fn, s] of pools()) {
          this.set({ function: fn, state: 'starting' }, s.creating);
          this.set({ function: fn, state: 'idle' }, s.ready - s.busy);
          this.set({ function: fn, state: 'busy' }, s.busy);
        }
      },
    });
  }

  /** The counters of `rule`'s calls of `fn` ("" for calls through server.address); resolved once, so a call costs no label lookup. */
  forCalls(rule: string, fn: string): CallMetrics {
    const labels = { rule, function: fn };
    const calls = this.calls.labels(labels);
    const errors = this.errors.labels(labels);
    const retries = this.retries.labels(labels);
    const timeouts = this.timeouts.labels(labels);
    const duration = this.duration.labels(labels);
    // Every series exists from the start, at 0, so a rate() sees its first call.
    for (const c of [calls, errors, retries, timeouts]) c.inc(0);
    this.duration.zero(labels);
    return {
      called(seconds, outcome) {
        calls.inc();
        duration.observe(seconds);
        if (outcome !== 'ok') errors.inc();
        if (outcome === 'timeout') timeouts.inc();
      },
      noInstance() {
        errors.inc();
      },
      retried() {
        retries.inc();
      },
    };
  }

  /** A counter of `fn`'s cold starts, for its pool. */
  coldStartsOf(fn: string): () => void {
    const c = this.coldStarts.labels({ function: fn });
    c.inc(0);
    return () => c.inc();
  }
}
