// Rename routes form a graph: route A feeds route B when A's target topic matches B's source
// filter (targets are plain topic names, so this is exact). A cycle would re-publish one message
// forever, so a config with one is refused. Unlike Baetyl v1, a wildcard source is only a cycle
// when some target really matches it.
import { topicMatches } from '@baetyl/core/topic';
import type { RouteConfig } from '../config/schema.js';

/** The indices of one cycle (first index repeated at the end), or undefined when there is none. */
export function findRouteCycle(routes: ReadonlyArray<RouteConfig>): number[] | undefined {
  const next = routes.map((a) => routes.flatMap((b, j) => (topicMatches(b.source.topic, a.target.topic) ? [j] : [])));
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = routes.map(() => WHITE);
  const stack: number[] = [];
  const visit = (i: number): number[] | undefined => {
    color[i] = GREY;
    stack.push(i);
    for (const j of next[i]!) {
      if (color[j] === GREY) return [...stack.slice(stack.indexOf(j)), j];
      if (color[j] === WHITE) {
        const found = visit(j);
        if (found) return found;
      }
    }
    stack.pop();
    color[i] = BLACK;
    return undefined;
  };
  for (let i = 0; i < routes.length; i++) {
    if (color[i] === WHITE) {
      const found = visit(i);
      if (found) return found;
    }
  }
  return undefined;
}
