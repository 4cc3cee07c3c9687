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
}

export const SHAPES: Shape[] = [
  { label: '1 pub -> 1 sub, QoS 0', publishers: 1, subscribers: 1, qos: 0, window: 1000, target: true },
  { label: '1 pub -> 1 sub, QoS 1', publishers: 1, subscribers: 1, qos: 1, window: 1000, target: true },
  { label: '100 pubs -> 1 sub, QoS 0', publishers: 100, subscribers: 1, qos: 0, window: 1000 },
  { label: '1 pub -> 100 subs, QoS 0', publishers: 1, subscribers: 100, qos: 0, window: 100 },
];

export async function hubBench(report: Report, o: HubBenchOptions, log: (s: string) => void): Promise<void> {
  const aedes = await startPlainAedes();
  const hub = await startHub();
  try {
    for (const shape of SHAPES) {
      const ours: number[] = [];
      const plain: number[] = [];
      const ratios: number[] = [];
      const lossy: string[] = [];
      for (let r = 0; r < o.runs; r++) {
        const run = (port: number, auth: boolean): Promise<LoadResult> =>
          runLoad({
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
          });
        const a = await run(aedes.port, false);
        const h = await run(hub.port, true);
        plain.push(a.rate);
        ours.push(h.rate);
        ratios.push(h.rate / a.rate);
        for (const [who, x] of [['aedes', a], ['hub', h]] as const) if (x.lost || x.wrong) lossy.push(`${who} run ${r + 1}: lost ${x.lost}, wrong ${x.wrong}`);
        log(`  ${shape.label} run ${r + 1}: aedes ${a.rate.toFixed(0)}/s, hub ${h.rate.toFixed(0)}/s (p50 ${h.p50.toFixed(2)} ms), ratio ${(h.rate / a.rate).toFixed(2)}`);
      }
      const note = lossy.length ? lossy.join('; ') : undefined;
      report.add('hub', `${shape.label}: plain aedes`, 'msgs/s', plain);
      report.add('hub', `${shape.label}: our hub (auth, ACL, route)`, 'msgs/s', ours, { note });
      report.add('hub', `${shape.label}: ratio hub/aedes`, 'x', ratios, shape.target ? { target: { op: '>=', value: 0.85, text: '>= 0.85x' } } : {});
    }
  } finally {
    await hub.stop();
    await aedes.stop();
  }
}
