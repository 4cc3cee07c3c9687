#!/usr/bin/env node
// The `baetyl` command: the compiled CLI, with a clear message when it has not been built.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// The master carries no message traffic, so it trades speed for footprint (docs/performance.md,
// "Lean services"): no optimising or baseline compiler (their code pages and compiled code),
// feedback vectors only for functions that run often, V8's small-heap heuristics, and a young
// generation that does not grow. Not --lite-mode: it implies --jitless, and then ssh2 (under
// dockerode, in docker mode) cannot compile its WebAssembly. Set before the master's own code
// loads, so that they apply however the command is started (`baetyl`, `node bin/baetyl.js`, the
// master image).
const MASTER_FLAGS = ['--no-opt', '--no-sparkplug', '--lazy-feedback-allocation', '--optimize-for-size', '--semi-space-growth-factor=1'];
for (const flag of MASTER_FLAGS) setFlagsFromString(flag);

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(`baetyl is not built yet (${main} is missing): run "make build" in the repository\n`);
  process.exit(1);
}
await import(main);
