// Bundles the runtime host (packages/runtime/dist/src/main.js and everything it imports) into one
// file, packages/runtime/dist/bundle/main.mjs (its config loader into config-thread.mjs), which the
// native engine starts for every function instance. Node then reads and resolves one file instead of a few hundred: about 50 ms of a
// cold start on the reference machine (docs/performance.md). Run by `make build`, after tsc.
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The bundles, with what they must not contain. The runtime's config loader runs in a thread of
 * its own (packages/runtime/src/config/off-thread.ts), so it is a bundle of its own, next to main.mjs.
 */
const BUNDLES = [
  { pkg: 'runtime', from: 'main.js', to: 'main.mjs', external: [] },
  { pkg: 'runtime', from: 'config/thread.js', to: 'config-thread.mjs', external: [] },
];

for (const { pkg, from, to, external } of BUNDLES) {
  const entry = join(repo, 'packages', pkg, 'dist', 'src', from);
  const out = join(repo, 'packages', pkg, 'dist', 'bundle', to);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  await build({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    logLevel: 'warning',
    // CommonJS dependencies (grpc-js, winston) call require(); an ES module has none of its own.
    // Paths the code resolves from import.meta.url (its workers) are looked up from dist/bundle too.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  });
  renameSync(tmp, out);
}
