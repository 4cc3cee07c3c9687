#!/usr/bin/env node
// The `baetyl` command: the compiled CLI, with a clear message when it has not been built.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write(`baetyl is not built yet (${main} is missing): run "make build" in the repository\n`);
  process.exit(1);
}
await import(main);
