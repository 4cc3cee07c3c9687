// The engines by conf.yml `mode`. Each engine registers itself (engines.ts loads them all), and
// the master, the checks and the CLI only ever ask for the one conf.yml names.
import type { EngineKind } from './engine.js';

const KINDS = new Map<string, EngineKind>();

export function registerEngine(kind: EngineKind): void {
  if (KINDS.has(kind.mode)) throw new Error(`an engine is registered twice for mode "${kind.mode}"`);
  KINDS.set(kind.mode, kind);
}

/** The engine of a mode; conf.yml's schema admits only registered ones, so an unknown one is a bug. */
export function engineKind(mode: string): EngineKind {
  const kind = KINDS.get(mode);
  if (!kind) throw new Error(`no engine for mode "${mode}"; the engines are: ${[...KINDS.keys()].join(', ')}`);
  return kind;
}
