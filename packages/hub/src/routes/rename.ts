// Baetyl's server-side rename routes (`subscriptions` in service.yml): a message whose topic
// matches `source.topic` is published again under `target.topic`, payload unchanged. Its QoS is
// `target.qos` when min(message QoS, source.qos) is 1, else 0. Several routes to one target send
// one copy (the highest QoS). Routed copies are never retained.
import { topicMatches } from '@baetyl/core';
import type { RouteConfig } from '../config/schema.js';

export interface RoutedCopy {
  topic: string;
  qos: 0 | 1;
}

export class RenameRoutes {
  constructor(private readonly routes: ReadonlyArray<RouteConfig>) {}

  get size(): number {
    return this.routes.length;
  }

  /** The copies a message on `topic` at `qos` produces. */
  copiesFor(topic: string, qos: number): RoutedCopy[] {
    if (this.routes.length === 0 || topic.startsWith('$')) return [];
    const out = new Map<string, 0 | 1>();
    for (const r of this.routes) {
      if (!topicMatches(r.source.topic, topic)) continue;
      const effective = Math.min(qos, r.source.qos);
      const q: 0 | 1 = effective >= 1 ? r.target.qos : 0;
      out.set(r.target.topic, Math.max(out.get(r.target.topic) ?? 0, q) as 0 | 1);
    }
    return [...out].map(([t, q]) => ({ topic: t, qos: q }));
  }
}
