#!/usr/bin/env node
// baetyl-function-manager: `node main.js [-c etc/baetyl/service.yml]` (the lifecycle is core's runService).
import { main } from '@baetyl/core/service';
import { loadFunctionManagerConfig } from './config/load.js';
import { startFunctionManager } from './manager.js';

main({
  program: 'baetyl-function-manager',
  noun: 'function manager',
  load: loadFunctionManagerConfig,
  start: (config, { logger, cwd }) => startFunctionManager(config, { logger, cwd }),
  // Exit even if stopping instances hangs (the master's grace is longer).
  stopLimit: () => 20_000,
});
