// @baetyl/core/config: the one loader for every config file, its errors and units.
export { ConfigError, formatPath, formatProblems, type ConfigProblem } from './errors.js';
export { loadConfig, parseConfig, parseYaml, problemAt, readConfigText, validateConfig, type LoadOptions, type ParsedYaml, type Schema } from './load.js';
export { formatDuration, parseSize } from './units.js';
