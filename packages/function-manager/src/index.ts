// The function manager (image baetyl-function-manager): rules, instance pools, the gRPC client.
export * from './config/schema.js';
export * from './config/load.js';
export * from './call/error-payload.js';
export * from './pool/launcher.js';
export * from './pool/instance.js';
export * from './pool/pool.js';

export * from './rule/rule.js';
export * from './server/address.js';
export * from './server/function-server.js';
export * from './manager.js';
