// @baetyl/remote-mqtt: the bridge between the hub and remote brokers. `./config` holds the loader.
export { loadRemoteMqttConfig, parseRemoteMqttConfig, ruleClientIds } from './config/load.js';
export type { RemoteConfig, RemoteMqttConfig, RuleConfig } from './config/load.js';
export { remoteMqttSchema, UNUSED_KEYS } from './config/schema.js';
export { startBridge, type Bridge } from './bridge/bridge.js';
