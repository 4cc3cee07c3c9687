// The checked config a master hands to an instance, so that no config loader runs in it: a
// python27/python36 instance reads it in Python (python/instance.ts shapes it), a node85 or sql
// host here. A master loads service.yml with the runtime's own loader (config.ts), with the
// instance's environment applied, and puts the result in BAETYL_RUNTIME_CONFIG. Without it (a
// runtime started by hand or by a test) the host loads service.yml itself. This file loads nothing.
import type { RuntimeConfig } from './config.js';
import type { RuntimeKind } from './kinds.js';

/** The env variable a runtime reads its checked config from. */
export const RUNTIME_CONFIG_ENV = 'BAETYL_RUNTIME_CONFIG';

/** What a node85 or sql host reads from RUNTIME_CONFIG_ENV. */
export interface PassedConfig {
  kind: RuntimeKind;
  config: RuntimeConfig;
  /** The loader's warnings, said in the instance's own log at start. */
  warnings: string[];
}

let held: string | undefined;

/**
 * Moves a passed config out of the process's environment into memory, before any worker thread
 * is made (a thread gets a copy of the environment, and handlers have no use for it). True if a
 * master passed one.
 */
export function holdPassedConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env[RUNTIME_CONFIG_ENV];
  if (text !== undefined && text !== '') held = text;
  delete env[RUNTIME_CONFIG_ENV];
  return held !== undefined;
}

/**
 * The config a master passed for this kind, or undefined when none was; throws saying what is
 * wrong with one that does not parse or is for another kind.
 */
export function takePassedConfig(kind: RuntimeKind, env: NodeJS.ProcessEnv = process.env): { cfg: RuntimeConfig; warnings: string[] } | undefined {
  holdPassedConfig(env);
  const text = held;
  held = undefined;
  if (text === undefined) return undefined;
  let passed: Partial<PassedConfig>;
  try {
    passed = JSON.parse(text) as Partial<PassedConfig>;
  } catch (err) {
    throw new Error(
      `${RUNTIME_CONFIG_ENV} is not JSON (${(err as Error).message}); it carries the checked config a baetyl master passes: unset it to read service.yml`,
    );
  }
  if (passed?.kind !== kind || typeof passed.config !== 'object' || passed.config === null || !Array.isArray(passed.warnings)) {
    throw new Error(
      `${RUNTIME_CONFIG_ENV} is not a checked ${kind} config ({kind, config, warnings}, as a baetyl master passes it): unset it to read service.yml`,
    );
  }
  return { cfg: passed.config, warnings: passed.warnings };
}
