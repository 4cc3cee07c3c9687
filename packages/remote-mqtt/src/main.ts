#!/usr/bin/env node
// baetyl-remote-mqtt: `node main.js [-c etc/baetyl/service.yml]` (the lifecycle is core's runService).
import { main } from '@baetyl/core/service';
import { loadRemoteMqttConfig } from './config/load.js';
import { startBridge } from './bridge/bridge.js';

main({
  program: 'baetyl-remote-mqtt',
  noun: 'remote-mqtt',
  load: loadRemoteMqttConfig,
  start: (config, { logger, cwd, file }) => {
    if (config.rules.length === 0) logger.warn(`${file}: no rules: nothing is forwarded`);
    return startBridge(config, { logger, cwd });
  },
  started: (_bridge, config) => ({ rules: String(config.rules.length), remotes: config.remotes.map((r) => r.name).join(',') }),
  // Exit even if a broker does not answer the DISCONNECT.
  stopLimit: () => 10_000,
});
