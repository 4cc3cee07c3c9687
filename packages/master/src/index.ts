export { Master, type MasterOptions } from './master/master.js';
export { loadAll, loadMasterConfig, type LoadedConfig } from './workdir/load.js';
export { loadApp, parseApp } from './app/load.js';
export type * from './app/model.js';
export { masterConfigSchema, type MasterConfig } from './conf/schema.js';
export type * from './engine/engine.js';
export { Backoff } from './supervisor/backoff.js';
