// Where the master keeps its files in a workdir (Baetyl v1's layout).
import { isAbsolute, join } from 'node:path';

export const DEFAULT_CONF = 'etc/baetyl/conf.yml';
export const APP_FILE = 'var/db/baetyl/application.yml';
export const STATS_FILE = 'var/db/baetyl/application.stats';
export const CLI_TOKEN_FILE = 'var/run/baetyl/cli.token';
export const PID_FILE = 'var/run/baetyl/baetyl.pid';
/** The folders the master writes into, made at its start. */
export const MASTER_DIRS = ['var/db/baetyl', 'var/run/baetyl', 'var/log/baetyl'];

/** The workdir's conf.yml path. */
export function confPath(workdir: string, config = DEFAULT_CONF): string {
  return isAbsolute(config) ? config : join(workdir, config);
}
