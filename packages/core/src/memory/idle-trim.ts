// Gives memory back once a process falls quiet. V8 grows its young generation to 32 MB under a
// burst of messages and keeps it: with no allocation there is no GC, so its own memory reducer
// never starts, and a hub or function manager idles at 30-60 MB more than before the burst
// (docs/performance.md, "Round 9"). When the event loop has been quiet for a while and the heap
// has grown since the last trim, one low-memory GC (V8's LowMemoryNotification, which a
// `HeapProfiler.collectGarbage` over an in-process inspector session runs; no port is opened)
// shrinks the young generation and compacts the old one. Also in a worker thread, for its own heap.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

export interface IdleTrimOptions {
  /** How long the event loop must stay quiet before a trim (ms). */
  quietMs?: number;
  /** How often utilisation is sampled (ms). */
  checkMs?: number;
  /** Event-loop utilisation (0..1) of one sample above which the process counts as busy. */
  busyUtilization?: number;
  /** Committed heap growth since the last trim (bytes) below which nothing is done. */
  minGrowthBytes?: number;
  /** Least time between two trims (ms), so steady light traffic pays at most one GC that often. */
  minIntervalMs?: number;
  /** Told of each trim: committed heap and RSS before and after, and how long it took. */
  onTrim?: (t: TrimResult) => void;
  /** Told once when a trim fails (a node built without the inspector): trimming stops. */
  onError?: (err: Error) => void;
  /** BAETYL_MEMORY_TRIM=off turns trimming off (to measure without it). */
  env?: NodeJS.ProcessEnv;
}

export interface TrimResult {
  heapBefore: number;
  heapAfter: number;
  rssBefore: number;
  rssAfter: number;
  ms: number;
}

export interface IdleTrim {
  stop(): void;
}

export const IDLE_TRIM_DEFAULTS = {
  quietMs: 3000,
  checkMs: 1000,
  busyUtilization: 0.02,
  minGrowthBytes: 2 * 2 ** 20,
  minIntervalMs: 10_000,
} as const;

const MB = (n: number) => (n / 2 ** 20).toFixed(1);

/** The debug line a service logs for one trim. */
export function trimmedLine(t: TrimResult): string {
  return `quiet: memory trimmed, heap ${MB(t.heapBefore)} -> ${MB(t.heapAfter)} MB, RSS ${MB(t.rssBefore)} -> ${MB(t.rssAfter)} MB in ${t.ms.toFixed(0)} ms`;
}

/** One low-memory GC now. */
export async function trimMemory(): Promise<TrimResult> {
  // Loaded at the first trim, not at start-up (a function instance's cold start).
  const { Session } = await import('node:inspector');
  const heapBefore = getHeapStatistics().total_heap_size;
  const rssBefore = process.memoryUsage.rss();
  const t0 = performance.now();
  const session = new Session();
  session.connect();
  return new Promise<TrimResult>((resolve, reject) => {
    session.post('HeapProfiler.collectGarbage', (err) => {
      // Not from inside the callback: V8's heap profiler agent runs it holding a lock that its
      // destructor takes too, and the thread would wait on itself for ever.
      setImmediate(() => session.disconnect());
      if (err) return reject(err);
      resolve({ heapBefore, heapAfter: getHeapStatistics().total_heap_size, rssBefore, rssAfter: process.memoryUsage.rss(), ms: performance.now() - t0 });
    });
  });
}

/** Trims once the loop has been quiet for quietMs and the heap has grown; the timer does not keep the process alive. */
export function startIdleTrim(opts: IdleTrimOptions = {}): IdleTrim {
  if ((opts.env ?? process.env).BAETYL_MEMORY_TRIM === 'off') return { stop() {} };
  const o = { ...IDLE_TRIM_DEFAULTS, ...opts };
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  let quietSince = Date.now();
  // Nothing trimmed yet: the first quiet spell after start-up trims what starting left behind.
  let baseline = 0;
  let lastTrim = -Infinity;
  let trimming = false;
  const timer = setInterval(() => {
    const now = Date.now();
    const elu = performance.eventLoopUtilization(last);
    last = performance.eventLoopUtilization();
    if (elu.utilization > o.busyUtilization) {
      quietSince = now;
      return;
    }
    if (trimming || now - quietSince < o.quietMs || now - lastTrim < o.minIntervalMs) return;
    if (getHeapStatistics().total_heap_size < baseline + o.minGrowthBytes) return;
    trimming = true;
    trimMemory()
      .then((t) => {
        baseline = t.heapAfter;
        opts.onTrim?.(t);
      })
      // A failed trim leaves the heap as it was, and would fail again: no more tries.
      .catch((err: Error) => {
        clearInterval(timer);
        opts.onError?.(err);
      })
      .finally(() => {
        trimming = false;
        lastTrim = Date.now();
        // The trim's own work is not traffic.
        last = performance.eventLoopUtilization();
      });
  }, o.checkMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** startIdleTrim as a service runs it: each trim, and a failure to trim, said at debug. */
export function startLoggedIdleTrim(debug: (line: string) => void): IdleTrim {
  return startIdleTrim({ onTrim: (t) => debug(trimmedLine(t)), onError: (err) => debug(`memory is not trimmed when quiet: ${err.message}`) });
}
