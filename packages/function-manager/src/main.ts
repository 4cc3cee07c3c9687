#!/usr/bin/env node
// baetyl-function-manager: `node main.js [-c etc/baetyl/service.yml]` (the lifecycle is core's runService).
import { main } from '@baetyl/core/service';
import { REPORT_KEY, startReporter } from '@baetyl/core/metrics';
import { useMappedBufferSlabs } from '@baetyl/core/memory/mapped-buffers';
import { loadFunctionManagerConfig } from './config/load.js';
import { startFunctionManager } from './manager.js';

// A flood's Buffers (MQTT in and out, the call streams) go back to the system when they die; the
// native engine and the image start this process with MAPPED_BUFFERS_ENV.
useMappedBufferSlabs();

main({
  program: 'baetyl-function-manager',
  noun: 'function manager',
  load: loadFunctionManagerConfig,
  start: async (config, { logger, cwd }) => {
    const fm = await startFunctionManager(config, { logger, cwd });
    // Its Prometheus metrics go to the master every metrics.report.interval (docs/metrics.md).
    const reporter = startReporter({
      intervalMs: config.metrics.report.interval,
      logger,
      body: async () => ({ [REPORT_KEY]: await fm.metrics.registry.getMetricsAsJSON() }),
    });
    return {
      fm,
      close: () => {
        reporter.stop();
        return fm.close();
      },
    };
  },
  // Exit even if stopping instances hangs (the master's grace is longer).
  stopLimit: () => 20_000,
});
