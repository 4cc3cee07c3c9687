// What the config loader takes from core, plus a file read that reports like core's loader.
import { readFileSync } from 'node:fs';
import { ConfigError } from '@baetyl/core/config';

export { ConfigError, formatPath, parseYaml, validateConfig, type ConfigProblem, type ParsedYaml } from '@baetyl/core/config';
export { topicFilterProblem, topicNameProblem } from '@baetyl/core/topic';

export function readFileSyncSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(file, [{ path: '', message: `cannot read the config: ${why}` }]);
  }
}
