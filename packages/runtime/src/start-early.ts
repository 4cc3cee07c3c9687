// Imported first by main.ts, before anything heavy: see host/prespawn.ts.
import { prespawnFor } from './host/prespawn.js';

prespawnFor(process.argv.slice(2));
