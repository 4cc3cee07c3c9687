// The baetyl-hub service: `node main.js [-c etc/baetyl/service.yml]`, run by the master with
// the service directory as cwd. A bad config exits 1 with a message naming the field; SIGTERM
// and SIGINT stop it gracefully (exit 0).
import { resolve } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import { closeLogger, createLogger, type Logger } from '@baetyl/core/log';
import { readServiceContext } from '@baetyl/core/context';
import { loadHubConfig } from './config/load.js';
import type { Hub } from './broker/hub.js';

function configPath(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-c' || a === '--config') && argv[i + 1]) return argv[i + 1]!;
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return 'etc/baetyl/service.yml';
}

async function main(): Promise<void> {
  const cwd = process.cwd();
  const file = configPath(process.argv.slice(2));
  let config;
  // Warnings (an unknown key, a template left as written) go to the service's log, once it exists.
  const warnings: string[] = [];
  try {
    config = loadHubConfig(resolve(cwd, file), { onWarning: (m) => warnings.push(m) });
  } catch (err) {
    const msg = err instanceof ConfigError ? err.message : (err as Error).message;
    process.stderr.write(`hub: bad config: ${msg}\n`);
    process.exit(1);
  }
  const ctx = readServiceContext();
  const fields: Record<string, string> = {};
  if (ctx.serviceName) fields.service = ctx.serviceName;
  if (ctx.instanceName && ctx.instanceName !== ctx.serviceName) fields.instance = ctx.instanceName;
  const logger: Logger = createLogger(config.logger, fields, { cwd });
  for (const w of warnings) logger.warn(w);
  // The broker, the store and the listeners load only once the config is known to be good.
  const { startHub } = await import('./broker/hub.js');
  const { startReporter } = await import('./metrics/reporter.js');
  let hub: Hub;
  try {
    hub = await startHub(config, { cwd, logger });
  } catch (err) {
    logger.error(`hub cannot start: ${(err as Error).message}`);
    await closeLogger(logger);
    process.exit(1);
  }
  const reporter = startReporter(config.metrics.report.interval, () => hub.stats(), logger);
  logger.info('hub started', { listen: hub.addresses.join(','), storage: config.storage.dir });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('hub stopping', { signal });
    reporter.stop();
    const limit = setTimeout(() => {
      logger.warn('hub stop took longer than shutdown.timeout; exiting');
      process.exit(0);
    }, config.shutdown.timeout);
    limit.unref();
    try {
      await hub.close();
      logger.info('hub stopped');
    } catch (err) {
      logger.error(`hub stop failed: ${(err as Error).message}`);
    }
    await closeLogger(logger);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGPIPE', () => undefined);
}

void main();
