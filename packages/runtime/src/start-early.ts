// Imported first by main.ts, before anything heavy: the config starts loading in its thread
// (config/off-thread.ts) and a node85 instance's first worker thread starts booting
// (host/prespawn.ts), both while the host loads its own modules.
import { resolve } from 'node:path';
import { parseArgs } from './args.js';
import { startConfigLoad } from './config/off-thread.js';
import { prespawnFor } from './host/prespawn.js';

try {
  const args = parseArgs(process.argv.slice(2));
  // python27/python36 are not served by this host (instance.ts says so).
  if (args !== 'help' && (args.runtime === 'node85' || args.runtime === 'sql')) {
    startConfigLoad({ file: resolve(process.cwd(), args.config), kind: args.runtime });
    prespawnFor(args.runtime);
  }
} catch {
  // main.ts reports a bad command line.
}
