// Everything @baetyl/core has. A service imports the subpaths it uses instead (package.json
// "exports": config, log, topic, context, api, function, mqtt, service, metrics, pool), so that it loads only those.
export * from './config/index.js';
export * from './log/logger.js';
export * from './topic/topic.js';
export * from './context/env.js';
export * from './api/index.js';
export * from './function/index.js';
export * from './mqtt/index.js';
export * from './service/run.js';
export * from './metrics/index.js';
export * from './pool/lending.js';
