// Bundles the services with esbuild.
//
// `node scripts/bundle.mjs` (run by `make build`, after tsc): the runtime host
// (packages/runtime/dist/src/main.js and everything it imports) into packages/runtime/dist/bundle/,
// which the native engine starts for every function instance: node then reads and resolves a few
// files instead of a few hundred, about 50 ms of a cold start on the reference machine
// (docs/performance.md). main.mjs is small: it starts the config loader's thread (config-thread.mjs,
// an entry of its own) and a node85 instance's first worker thread, then loads the rest of the
// host, a chunk of its own, so that those threads boot while node compiles that chunk
// (packages/runtime/src/main.ts). The config loader is also there as config-loader.cjs with V8's
// code cache of it (config-loader.cjs.v8cache), made here by loading a sample config once
// (packages/runtime/src/config/code-cache.ts).
//
// `node scripts/bundle.mjs --images <dir>` (run by scripts/images/build.sh): each image's own
// files, as they lie in the image, under <dir>/<name>/ (docs/docker.md, "What an image holds"):
// every Node service as a bundle in place of its compiled entry (packages/<pkg>/dist/src/main.js,
// with the chunks of its lazy imports beside it) and its package.json; the runtime as the bundle
// above. Dependencies are whatever the entry imports: nothing here lists modules.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repo = join(fileURLToPath(new URL('.', import.meta.url)), '..');

// CommonJS dependencies (winston, yaml, ajv) call require(); an ES module has none of its own.
// Paths the code resolves from import.meta.url (its workers) are looked up from the bundle's folder.
const banner = { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" };

const common = { bundle: true, splitting: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', banner };

/** A service.yml with every block, loaded once at build time so that the code cache holds what a load runs. */
const CACHE_SAMPLE = `server:
  address: 127.0.0.1:50051
  timeout: 30s
  workers: {max: 1}
  concurrent: {max: 10}
  message: {length: {max: 4m}}
functions:
  - name: f
    handler: index.handler
    codedir: var/db/baetyl/code
logger:
  level: info
runtime:
  idle: 5m
`;

/** The native runtime bundle (and the runtime image's): packages/runtime/dist/bundle/. */
async function runtimeBundle(out) {
  const src = join(repo, 'packages', 'runtime', 'dist', 'src');
  const tmp = `${out}.tmp`;
  const old = `${out}.old`;
  rmSync(tmp, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: { main: join(src, 'main.js'), 'config-thread': join(src, 'config', 'thread.js') },
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    // Next to main.mjs: the code finds its workers relative to its own file.
    chunkNames: '[name]-[hash]',
  });
  // The config loader once more, as CommonJS with V8's code cache beside it (config/code-cache.ts).
  await build({
    entryPoints: [join(src, 'config', 'config.js')],
    outfile: join(tmp, 'config-loader.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  // Made by a node with the instances' own flags: V8 refuses a cache made under other heap flags.
  const { INSTANCE_NODE_FLAGS } = await import(join(src, 'config', 'kinds.js'));
  const sample = join(tmp, 'sample-service.yml');
  writeFileSync(sample, CACHE_SAMPLE);
  const script = `import { writeCodeCache } from ${JSON.stringify(pathToFileURL(join(src, 'config', 'code-cache.js')).href)}; writeCodeCache(${JSON.stringify(tmp)}, ${JSON.stringify(sample)});`;
  const made = spawnSync(process.execPath, [...INSTANCE_NODE_FLAGS, '--input-type=module', '-e', script], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error(`making the config loader's code cache failed (exit ${made.status})`);
  rmSync(sample);
  // Swapped in whole: an instance starting meanwhile sees the old files or the new ones.
  rmSync(old, { recursive: true, force: true });
  if (existsSync(out)) renameSync(out, old);
  renameSync(tmp, out);
  rmSync(old, { recursive: true, force: true });
}

if (!process.argv.includes('--images')) {
  await runtimeBundle(join(repo, 'packages', 'runtime', 'dist', 'bundle'));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The images' bundles. Three things a compiled module does at run time need settling at build
// time, since an image has no node_modules:

const workspace = join(repo, 'packages') + '/';

/**
 * A workspace module's `const require = createRequire(import.meta.url)` is its own require, as in
 * CommonJS: without the line, esbuild bundles the modules it requires (still loaded on first use,
 * as the code meant) instead of leaving them to be found in node_modules at run time.
 * Its `import.meta.url` is where its compiled file lies in the repository (and in the image, which
 * mirrors the repository under /opt/baetyl), not the bundle's: paths relative to it (a
 * package.json read for the version, a worker script) then hold. All of a build's files are in one
 * folder (`outRel`, from the repository root), so one relative path serves for each module.
 */
function workspaceModules(outRel) {
  return {
    name: 'workspace-modules',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(workspace) || args.path.includes('/node_modules/')) return undefined;
        let text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta')) return { contents: text, loader: 'js' };
        text = text.replace(/^const require = createRequire\(import\.meta\.url\);$/m, '');
        if (text.includes('import.meta.url')) {
          const rel = posix.relative(outRel, relative(repo, args.path).split('\\').join('/'));
          text = `const __moduleUrl = new URL(${JSON.stringify(rel)}, import.meta.url).href;\n${text.replaceAll('import.meta.url', '__moduleUrl')}`;
        }
        return { contents: text, loader: 'js' };
      });
    },
  };
}

/**
 * Native addons loaded through node-gyp-build (`require('node-gyp-build')(__dirname)`, as
 * classic-level does for the hub's persistence) find their binary in their package folder at run
 * time. Here node-gyp-build itself picks it, for this machine (the image's platform), and the
 * bundle requires that file, which esbuild copies beside it.
 */
const nodeGypBuild = {
  name: 'node-gyp-build',
  setup(b) {
    b.onLoad({ filter: /node_modules\/.*\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const call = /require\((['"])node-gyp-build\1\)\(__dirname\)/g;
      if (!call.test(text)) return undefined;
      const binary = createRequire(args.path)('node-gyp-build').resolve(dirname(args.path));
      return { contents: text.replace(call, `require(${JSON.stringify(binary)})`), loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

/** One service's bundle: `entry` (from the repository root) becomes `<root>/<entry>`, chunks beside it. */
async function serviceBundle(root, entry) {
  const outRel = posix.dirname(entry);
  const res = await build({
    ...common,
    // CommonJS dependencies may use __dirname and __filename when they load (ssh2's WebAssembly
    // loader does): here, those of the bundle's file, as esbuild's own advice for ES module output.
    banner: {
      js: `${banner.js} import { fileURLToPath as __bundlePath } from 'node:url'; import { dirname as __bundleDir } from 'node:path'; const __bundleFilename = __bundlePath(import.meta.url); const __bundleDirname = __bundleDir(__bundleFilename);`,
    },
    define: { __dirname: '__bundleDirname', __filename: '__bundleFilename' },
    entryPoints: [join(repo, entry)],
    outdir: join(root, outRel),
    chunkNames: 'chunk-[hash]',
    // Native addons (a `.node` file a dependency requires) go beside the bundle as they are.
    loader: { '.node': 'copy' },
    assetNames: '[name]-[hash]',
    plugins: [workspaceModules(outRel), nodeGypBuild],
    metafile: true,
  });
  return Object.values(res.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
}

/** Files copied as they are, from the repository root to the same place under `root`. */
function copy(root, ...files) {
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    cpSync(join(repo, f), join(root, f), { recursive: true });
  }
}

const outArg = process.argv[process.argv.indexOf('--images') + 1];
if (!outArg) throw new Error('usage: node scripts/bundle.mjs --images <dir>');
const images = resolve(outArg);
rmSync(images, { recursive: true, force: true });
const app = (name) => join(images, name, 'opt', 'baetyl');
const sizes = {};

// The Node services: a bundle where the compiled entry was, and the package.json beside (its
// "type": "module" makes the bundle's .js files ES modules).
for (const pkg of ['hub', 'function-manager', 'timer', 'remote-mqtt']) {
  sizes[pkg] = await serviceBundle(app(pkg), `packages/${pkg}/dist/src/main.js`);
  copy(app(pkg), `packages/${pkg}/package.json`);
}

// The master: bin/baetyl.js as it is (it sets V8 flags, then imports the CLI), the CLI bundled.
sizes.master = await serviceBundle(app('master'), 'packages/master/dist/src/cli/main.js');
copy(app('master'), 'packages/master/package.json', 'packages/master/bin/baetyl.js');
// `baetyl` on PATH (the systemd wrapper runs `docker exec <master> baetyl ...`). The image has no
// /usr/bin/env for bin/baetyl.js's `#!/usr/bin/env node`, so this names node itself.
mkdirSync(join(images, 'master', 'usr', 'local', 'bin'), { recursive: true });
writeFileSync(
  join(images, 'master', 'usr', 'local', 'bin', 'baetyl'),
  "#!/usr/local/bin/node\n// The baetyl command of the master image.\nimport('/opt/baetyl/packages/master/bin/baetyl.js');\n",
  { mode: 0o755 },
);

// The runtime host (node85 and sql images): the native engine's bundle, and the node85 worker
// (it imports core's error texts), bundled where the host looks for it.
await runtimeBundle(join(app('runtime'), 'packages', 'runtime', 'dist', 'bundle'));
sizes.runtime = await serviceBundle(app('runtime'), 'packages/runtime/dist/src/node/worker.js');
copy(app('runtime'), 'packages/runtime/package.json');

// The python runtimes: dependency-free Python, no Node (compiled to .pyc in the image).
cpSync(join(repo, 'packages', 'runtime', 'python'), join(app('python'), 'runtime-python'), {
  recursive: true,
  filter: (f) => !f.includes('__pycache__') && !f.endsWith('.pyc'),
});

for (const [name, bytes] of Object.entries(sizes)) process.stderr.write(`[bundle] ${name}: ${(bytes / 1e6).toFixed(2)} MB\n`);
