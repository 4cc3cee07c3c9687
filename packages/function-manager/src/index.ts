// The function manager (image baetyl-function-manager) as a library: its config schema (the
// master's editor schemas), its loader and startFunctionManager (docs/function-manager.md).
export { functionManagerSchema, UNUSED_KEYS } from './config/schema.js';
export { loadFunctionManagerConfig, parseFunctionManagerConfig } from './config/load.js';
export { startFunctionManager } from './manager.js';
