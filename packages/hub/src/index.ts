// The hub as a library: its config schema and loader, and startHub (used by main.ts and by
// benchmarks that run a hub in-process).
export { hubConfigSchema, MAX_MQTT_PACKET, type HubConfig, type Principal, type Permission, type RouteConfig } from './config/schema.js';
export { loadHubConfig, parseHubConfig, checkHubConfig, UNUSED_KEYS } from './config/load.js';
export { findRouteCycle } from './routes/cycle.js';
export { filterCovers } from './auth/filters.js';
export { parseListenUrl, type ListenUrl } from './listeners/url.js';
export { startHub, type Hub, type HubOptions } from './broker/hub.js';
export type { HubStats } from './metrics/stats.js';
