// Imported first by main.ts, before anything heavy: a node85 instance's config starts loading in
// its thread (config/off-thread.ts) and its first worker thread starts booting (host/prespawn.ts),
// both while the host loads its own modules.
import { resolve } from 'node:path';
import { parseArgs } from './args.js';
import { startConfigLoad } from './config/off-thread.js';
import { holdPassedConfig } from './config/passed.js';
import { prespawnFor } from './host/prespawn.js';

try {
  const args = parseArgs(process.argv.slice(2));
  // Only node85 loads its config in a thread (see instance.ts); python27/python36 are not served
  // by this host at all.
  if (args !== 'help' && args.runtime === 'node85') {
    // A config the master checked and passed needs no loader (config/passed.ts).
    if (!holdPassedConfig()) startConfigLoad({ file: resolve(process.cwd(), args.config), kind: args.runtime });
    prespawnFor(args.runtime);
  }
} catch {
  // main.ts reports a bad command line.
}
