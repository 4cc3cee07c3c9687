// Whether a permit filter covers a subscription filter: every topic the subscription can match
// must also match the permit. Baetyl v1 compared the subscription's wildcards as literal levels,
// so permit `a/+` let a client subscribe to `a/#` and read `a/b/c`; this check does not.
export function filterCovers(permit: string, filter: string): boolean {
  if (permit === filter) return true;
  const p = permit.split('/');
  const f = filter.split('/');
  for (let i = 0; i < p.length; i++) {
    const pl = p[i]!;
    if (pl === '#') return true;
    if (i >= f.length) return false;
    const fl = f[i]!;
    if (fl === '#') return false; // the subscription reaches deeper than this permit level allows
    if (pl === '+') continue;
    if (pl !== fl) return false; // covers a literal or a `+` in the filter only when equal literals
  }
  // A longer subscription reaches levels a permit without `#` never allows (also `a/b/#`,
  // which matches `a/b/c`, is not covered by `a/b`).
  return f.length === p.length;
}
