// What the config loader takes from core.
export {
  ConfigError,
  formatPath,
  formatProblems,
  parseYaml,
  problemAt,
  readConfigText,
  validateConfig,
  type ConfigProblem,
  type ParsedYaml,
} from '@baetyl/core/config';
export { topicFilterProblem, topicNameProblem } from '@baetyl/core/topic';
