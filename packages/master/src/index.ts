export { Master, type MasterOptions } from './master/master.js';
export { loadAll, loadMasterConfig, type LoadedConfig } from './workdir/load.js';
export { loadApp, parseApp } from './app/load.js';
export { masterConfigSchema, type MasterConfig } from './conf/schema.js';
export { Backoff } from './supervisor/backoff.js';
