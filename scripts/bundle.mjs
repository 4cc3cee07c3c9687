// Bundles the runtime host (packages/runtime/dist/src/main.js and everything it imports) into
// packages/runtime/dist/bundle/, which the native engine starts for every function instance: node
// then reads and resolves a few files instead of a few hundred, about 50 ms of a cold start on the
// reference machine (docs/performance.md). Run by `make build`, after tsc.
// main.mjs is small: it starts the config loader's thread (config-thread.mjs, an entry of its own)
// and a node85 instance's first worker thread, then loads the rest of the host, a chunk of its own,
// so that those threads boot while node compiles that chunk (packages/runtime/src/main.ts).
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const src = join(repo, 'packages', 'runtime', 'dist', 'src');
const out = join(repo, 'packages', 'runtime', 'dist', 'bundle');
const tmp = `${out}.tmp`;
const old = `${out}.old`;

rmSync(tmp, { recursive: true, force: true });
await build({
  entryPoints: { main: join(src, 'main.js'), 'config-thread': join(src, 'config', 'thread.js') },
  outdir: tmp,
  outExtension: { '.js': '.mjs' },
  // Next to main.mjs: the code finds its workers relative to its own file.
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (winston, yaml, ajv) call require(); an ES module has none of its own.
  // Paths the code resolves from import.meta.url (its workers) are looked up from dist/bundle too.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
});
// Swapped in whole: an instance starting meanwhile sees the old files or the new ones.
rmSync(old, { recursive: true, force: true });
if (existsSync(out)) renameSync(out, old);
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });
