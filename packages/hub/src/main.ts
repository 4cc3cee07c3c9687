// baetyl-hub: `node main.js [-c etc/baetyl/service.yml]` (the lifecycle is core's runService).
import { main } from '@baetyl/core/service';
import { loadHubConfig } from './config/load.js';
import type { Hub } from './broker/hub.js';

main({
  program: 'baetyl-hub',
  noun: 'hub',
  load: loadHubConfig,
  start: async (config, { logger, cwd }) => {
    // The broker, the store and the listeners load only once the config is known to be good.
    const { startHub } = await import('./broker/hub.js');
    const { REPORT_KEY, startReporter } = await import('@baetyl/core/metrics');
    const hub: Hub = await startHub(config, { cwd, logger });
    // Baetyl's report (broker_stats, rule_count) for inspect, and the Prometheus metrics (docs/metrics.md).
    const reporter = startReporter({
      intervalMs: config.metrics.report.interval,
      logger,
      body: async () => {
        const s = hub.stats();
        return { broker_stats: s, rule_count: s.rule_count, [REPORT_KEY]: await hub.registry.getMetricsAsJSON() };
      },
    });
    return {
      hub,
      close: () => {
        reporter.stop();
        return hub.close();
      },
    };
  },
  started: ({ hub }, config) => ({ listen: hub.addresses.join(','), storage: config.storage.dir }),
  stopLimit: (config) => config.shutdown.timeout,
});
