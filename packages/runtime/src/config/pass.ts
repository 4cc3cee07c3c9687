// The master's side of config/passed.ts: a node85 or sql instance's service.yml, loaded and
// checked by the runtime's own loader with the instance's env applied, as the JSON the host reads.
import { loadRuntimeConfig } from './config.js';
import type { RuntimeKind } from './kinds.js';
import type { PassedConfig } from './passed.js';

export { RUNTIME_CONFIG_ENV } from './passed.js';

/** Throws a ConfigError naming the file, line and key, as the instance would. */
export function passedConfigText(file: string, kind: RuntimeKind, env: NodeJS.ProcessEnv): string {
  const warnings: string[] = [];
  const config = loadRuntimeConfig(file, kind, env, (m) => warnings.push(m));
  const passed: PassedConfig = { kind, config, warnings };
  return JSON.stringify(passed);
}
