#!/usr/bin/env node
// baetyl-timer: `node main.js [-c etc/baetyl/service.yml]` (the lifecycle is core's runService).
import { main } from '@baetyl/core/service';
import { loadTimerConfig } from './config/load.js';
import { startTimer } from './publisher/timer.js';

main({
  program: 'baetyl-timer',
  noun: 'timer',
  load: loadTimerConfig,
  start: (config, at) => startTimer(config, at),
  stopLimit: () => 5000,
});
