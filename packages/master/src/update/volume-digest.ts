// What a service's read-only mounts hold, as one digest, so an update can tell a changed config
// file from an unchanged one. Baetyl v1 compared only volume paths: a function config edited in
// place (the same path, new content) never restarted its runtime. Only read-only mounts count:
// they are what a service is given (config, code, certificates); a writable mount is where it
// keeps its own state (data, logs), which changes while it runs and is no reason to restart it.
import { createHash, type Hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServiceSpec } from '../app/model.js';

/** Files up to this size are hashed by content; bigger ones (binaries, models) by size and mtime. */
const CONTENT_LIMIT = 16 * 1024 * 1024;
/** A volume with more entries than this is summed by its first ones plus a count: a mount that
 * big is a data set, not a config, and walking it on every update would stall the master. */
const ENTRY_LIMIT = 20_000;

function addEntry(hash: Hash, root: string, rel: string, st: Stats, budget: { entries: number }): void {
  if (budget.entries-- <= 0) return;
  const abs = join(root, rel);
  if (st.isDirectory()) {
    hash.update(`D ${rel}\n`);
    let names: string[];
    try {
      names = readdirSync(abs).sort();
    } catch {
      hash.update(`unreadable ${rel}\n`);
      return;
    }
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      try {
        addEntry(hash, root, child, statSync(join(root, child)), budget);
      } catch {
        // A broken link, or a file removed while we walk.
        hash.update(`gone ${child}\n`);
      }
    }
  } else if (st.isFile()) {
    if (st.size > CONTENT_LIMIT) {
      hash.update(`F ${rel} ${st.size} ${st.mtimeMs}\n`);
      return;
    }
    hash.update(`F ${rel} ${st.size}\n`);
    try {
      hash.update(readFileSync(abs));
    } catch {
      hash.update(`unreadable ${rel}\n`);
    }
  }
}

/** The digest of one path under the workdir (a directory, a file, or nothing). */
export function pathDigest(workdir: string, source: string): string {
  const hash = createHash('sha256');
  const root = resolve(workdir, source);
  let st: Stats;
  try {
    st = statSync(root);
  } catch {
    return 'missing';
  }
  // Links are followed (a config may be a link to a shared file); the entry limit also ends a
  // walk caught in a link cycle.
  const budget = { entries: ENTRY_LIMIT };
  addEntry(hash, root, '', st, budget);
  if (budget.entries < 0) hash.update(`more than ${ENTRY_LIMIT} entries\n`);
  return hash.digest('hex');
}

/** One digest over every read-only mount of the service, in mount order. */
export function mountsDigest(workdir: string, spec: ServiceSpec): string {
  const hash = createHash('sha256');
  for (const m of spec.mounts) {
    if (!m.readonly) continue;
    hash.update(`${m.target}=${pathDigest(workdir, m.source)}\n`);
  }
  return hash.digest('hex');
}
