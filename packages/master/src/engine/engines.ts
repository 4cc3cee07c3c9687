// Every engine, registered; the one conf.yml's `mode` names is what everything above runs on.
// The entries are small: an engine's own code (and dockerode) loads only when it is created.
import type { MasterConfig } from '../conf/schema.js';
import type { EngineKind } from './engine.js';
import { engineKind } from './registry.js';
import './native/kind.js';
import './docker/kind.js';

/** The engine conf.yml selects. */
export function engineOf(conf: Pick<MasterConfig, 'mode'>): EngineKind {
  return engineKind(conf.mode);
}
