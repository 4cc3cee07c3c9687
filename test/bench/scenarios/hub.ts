// Hub throughput, fan-in and fan-out: our hub (auth, ACL, a rename route on the measured topic)
// against a plain aedes broker, run alternately in one session so that the ratio is side by side.
import { binaryCodec, runLoad, type LoadResult } from '../load/run.js';
import { HUB_USER, startHub, startPlainAedes } from '../support/procs.js';
import type { Report } from '../report.js';

export interface HubBenchOptions {
  runs: number;
  warmupMs: number;
  measureMs: number;
}

interface Shape {
  label: string;
  publishers: number;
  subscribers: number;
  qos: 0 | 1;
  window: number;
  target?: boolean;
  /** The subscriber keeps a persistent session (as the tutorial's rules do); aedes then runs on LevelDB too. */
  persistent?: boolean;
}

export const SHAPES: Shape[] = [
  { label: '1 pub -> 1 sub, QoS 0', publishers: 1, subscribers: 1, qos: 0, window: 1000, target: true },
  { label: '1 pub -> 1 sub, QoS 1', publishers: 1, subscribers: 1, qos: 1, window: 1000, target: true },
  { label: '1 pub -> 1 persistent sub, QoS 1', publishers: 1, subscribers: 1, qos: 1, window: 1000, persistent: true },
  { label: '100 pubs -> 1 sub, QoS 0', publishers: 100, subscribers: 1, qos: 0, window: 1000 },
  { label: '1 pub -> 100 subs, QoS 0', publishers: 1, subscribers: 100, qos: 0, window: 100 },
];

function shapeLoad(port: number, auth: boolean, shape: Shape, o: HubBenchOptions): Promise<LoadResult> {
  return runLoad({
    port,
    ...(auth ? HUB_USER : {}),
    publishers: shape.publishers,
    subscribers: shape.subscribers,
    pubTopic: 'bench/in',
    subTopic: 'bench/in',
    qos: shape.qos,
    subQos: shape.qos,
    codec: binaryCodec(64),
    window: shape.window,
    warmupMs: o.warmupMs,
    measureMs: o.measureMs,
    persistentSubs: shape.persistent,
  });
}

/** The hub group. Returns plain aedes' QoS 0 1 -> 1 rates, the reference other groups take ratios to. */
export async function hubBench(report: Report, o: HubBenchOptions, log: (s: string) => void): Promise<{ aedesQos0: number[] }> {
  const aedes = await startPlainAedes();
  // Persistent sessions are stored: against aedes on the hub's own store (LevelDB), not in memory.
  const aedesLevel = await startPlainAedes({ level: true });
  const hub = await startHub();
  let aedesQos0: number[] = [];
  try {
    for (const shape of SHAPES) {
      const baseline = shape.persistent ? aedesLevel : aedes;
      const ours: number[] = [];
      const plain: number[] = [];
      const ratios: number[] = [];
      const lossy: string[] = [];
      for (let r = 0; r < o.runs; r++) {
        const a = await shapeLoad(baseline.port, false, shape, o);
        const h = await shapeLoad(hub.port, true, shape, o);
        plain.push(a.rate);
        ours.push(h.rate);
        ratios.push(h.rate / a.rate);
        for (const [who, x] of [
          ['aedes', a],
          ['hub', h],
        ] as const)
          if (x.lost || x.wrong) lossy.push(`${who} run ${r + 1}: lost ${x.lost}, wrong ${x.wrong}`);
        log(
          `  ${shape.label} run ${r + 1}: aedes ${a.rate.toFixed(0)}/s, hub ${h.rate.toFixed(0)}/s (p50 ${h.p50.toFixed(2)} ms), ratio ${(h.rate / a.rate).toFixed(2)}`,
        );
      }
      const note = lossy.length ? lossy.join('; ') : undefined;
      if (shape === SHAPES[0]) aedesQos0 = plain;
      report.add('hub', `${shape.label}: plain aedes${shape.persistent ? ' (LevelDB store)' : ''}`, 'msgs/s', plain);
      report.add('hub', `${shape.label}: our hub (auth, ACL, route)`, 'msgs/s', ours, { note });
      report.add('hub', `${shape.label}: ratio hub/aedes`, 'x', ratios, shape.target ? { target: { op: '>=', value: 0.85, text: '>= 0.85x' } } : {});
    }
  } finally {
    await hub.stop();
    await aedesLevel.stop();
    await aedes.stop();
  }
  return { aedesQos0 };
}

/** Plain aedes alone, QoS 0 1 -> 1 (the hub group's first shape): the reference when the hub group is not run. */
export async function plainAedesQos0(o: HubBenchOptions, log: (s: string) => void): Promise<number[]> {
  const aedes = await startPlainAedes();
  try {
    const rates: number[] = [];
    for (let r = 0; r < o.runs; r++) {
      const a = await shapeLoad(aedes.port, false, SHAPES[0]!, o);
      rates.push(a.rate);
      log(`  plain aedes, ${SHAPES[0]!.label} run ${r + 1}: ${a.rate.toFixed(0)}/s`);
    }
    return rates;
  } finally {
    await aedes.stop();
  }
}
