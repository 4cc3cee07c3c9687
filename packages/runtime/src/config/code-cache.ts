// The config loader (yaml, ajv, the schemas: about 550 KB of JS) run from V8's code cache. In the
// host's bundle it is a CommonJS file of its own, config-loader.cjs, with the cache V8 made of it
// at build time beside it (scripts/bundle.mjs): node then skips parsing and compiling it, about
// 15-20 ms of the config load (sql's start waits for it; node85's runs beside the start of its
// first worker thread). Node 20 has no code cache for ES modules, hence
// CommonJS. A cache V8 refuses (another node version) only costs that compile; without the file
// (tsc's output, the tests) the loader is imported as usual.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

type ConfigModule = typeof import('./config.js');

export const LOADER_FILE = 'config-loader.cjs';
export const CACHE_FILE = 'config-loader.cjs.v8cache';

/** CommonJS' wrapper: the same text at build time and at run time, or V8 refuses the cache. */
function compile(file: string, cachedData?: Buffer): vm.Script {
  const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  return new vm.Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
}

function run(script: vm.Script, file: string): ConfigModule {
  const module = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports as ConfigModule;
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** The loader in `dir`'s config-loader.cjs, and whether V8 took its code cache. */
export function loadConfigModuleFrom(dir: string): { loader: ConfigModule; cached: boolean } {
  const file = join(dir, LOADER_FILE);
  const cachedData = readCache(join(dir, CACHE_FILE));
  const script = compile(file, cachedData);
  return { loader: run(script, file), cached: cachedData !== undefined && !script.cachedDataRejected };
}

/** The config loader: from the bundle's CommonJS file and its code cache when they are there. */
export async function loadConfigModule(): Promise<ConfigModule> {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  if (!existsSync(join(dir, LOADER_FILE))) return import('./config.js');
  return loadConfigModuleFrom(dir).loader;
}

/**
 * Build time: compiles `dir`/config-loader.cjs, loads `sample` with it (so that the functions a
 * load runs are compiled too, and go into the cache), and writes the cache beside it.
 */
export function writeCodeCache(dir: string, sample: string): number {
  const file = join(dir, LOADER_FILE);
  const script = compile(file);
  run(script, file).loadRuntimeConfig(sample, 'node85', { BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:50051' }, () => {});
  const cache = script.createCachedData();
  writeFileSync(join(dir, CACHE_FILE), cache);
  return cache.length;
}
