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
    const { startReporter } = await import('./metrics/reporter.js');
    const hub: Hub = await startHub(config, { cwd, logger });
    const reporter = startReporter(config.metrics.report.interval, () => hub.stats(), logger);
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
