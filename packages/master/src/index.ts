export { Master, loadAll, loadMasterConfig, type LoadedConfig, type MasterOptions } from './master.js';
export { loadApp, parseApp } from './app/load.js';
export type * from './app/model.js';
export { masterConfigSchema, type MasterConfig } from './conf/schema.js';
export type * from './engine/engine.js';
export { Backoff } from './supervisor/backoff.js';
