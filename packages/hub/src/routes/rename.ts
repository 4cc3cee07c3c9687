// Baetyl's server-side rename routes (`subscriptions` in service.yml): a message whose topic
// matches `source.topic` is published again under `target.topic`, payload unchanged. Its QoS is
// `target.qos` when min(message QoS, source.qos) is 1, else 0. Several routes to one target send
// one copy (the highest QoS). Routed copies are never retained.
import { topicMatches } from '@baetyl/core/topic';
import type { RouteConfig } from '../config/schema.js';

export interface RoutedCopy {
  topic: string;
  qos: 0 | 1;
}

/** Topics whose copies are remembered (devices publish on a few topics again and again). */
const CACHE_MAX = 1000;
const NONE: readonly RoutedCopy[] = Object.freeze([]);

export class RenameRoutes {
  /** Per QoS 0, 1, 2: topic -> its copies, so the filters are matched once per topic. */
  private readonly cache = [new Map<string, readonly RoutedCopy[]>(), new Map<string, readonly RoutedCopy[]>(), new Map<string, readonly RoutedCopy[]>()];

  constructor(private readonly routes: ReadonlyArray<RouteConfig>) {}

  get size(): number {
    return this.routes.length;
  }

  /** The copies a message on `topic` at `qos` produces (a shared array: do not change it). */
  copiesFor(topic: string, qos: number): readonly RoutedCopy[] {
    if (this.routes.length === 0 || topic.startsWith('$')) return NONE;
    const cache = this.cache[qos] ?? this.cache[0]!;
    let copies = cache.get(topic);
    if (copies === undefined) {
      copies = this.match(topic, qos);
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(topic, copies);
    }
    return copies;
  }

  private match(topic: string, qos: number): readonly RoutedCopy[] {
    const out = new Map<string, 0 | 1>();
    for (const r of this.routes) {
      if (!topicMatches(r.source.topic, topic)) continue;
      const effective = Math.min(qos, r.source.qos);
      const q: 0 | 1 = effective >= 1 ? r.target.qos : 0;
      out.set(r.target.topic, Math.max(out.get(r.target.topic) ?? 0, q) as 0 | 1);
    }
    return out.size === 0 ? NONE : Object.freeze([...out].map(([t, q]) => Object.freeze({ topic: t, qos: q })));
  }
}
