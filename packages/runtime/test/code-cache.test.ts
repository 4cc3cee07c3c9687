// The host's bundle loads its config loader from V8's code cache (src/config/code-cache.ts): the
// cache must be one V8 accepts under the instances' own flags, and the loader must load as the
// compiled one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTANCE_NODE_FLAGS, loadRuntimeConfig } from '../src/config/config.js';
import { LOADER_FILE } from '../src/config/code-cache.js';
import { cleanup, serviceDir } from './helpers.js';

const bundle = fileURLToPath(new URL('../bundle/', import.meta.url));
const codeCache = fileURLToPath(new URL('../src/config/code-cache.js', import.meta.url));

test("the bundle's config loader runs from its code cache under the instances' flags, and loads as the compiled loader", () => {
  assert.ok(existsSync(join(bundle, LOADER_FILE)), `${join(bundle, LOADER_FILE)} is missing: run "make build"`);
  const dir = serviceDir({
    'service.yml': 'server:\n  timeout: 2s\n  bogus: 1\nfunctions:\n  - name: f\n    handler: index.handler\n    codedir: code\nlogger:\n  level: debug\n',
  });
  try {
    const file = join(dir, 'service.yml');
    const env = { BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:1' };
    const script = `import { loadConfigModuleFrom } from ${JSON.stringify(codeCache)};
      const { loader, cached } = loadConfigModuleFrom(${JSON.stringify(bundle)});
      const warnings = [];
      const cfg = loader.loadRuntimeConfig(${JSON.stringify(file)}, 'node85', ${JSON.stringify(env)}, (w) => warnings.push(w));
      process.stdout.write(JSON.stringify({ cached, cfg, warnings }));`;
    const out = JSON.parse(execFileSync(process.execPath, [...INSTANCE_NODE_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8' })) as {
      cached: boolean;
      cfg: unknown;
      warnings: string[];
    };
    assert.equal(out.cached, true, 'V8 refused the code cache');
    const warnings: string[] = [];
    assert.deepEqual(
      out.cfg,
      loadRuntimeConfig(file, 'node85', env, (w) => warnings.push(w)),
    );
    assert.deepEqual(out.warnings, warnings);
    assert.equal(warnings.length, 1);
    // A bad config fails with the same message.
    writeFileSync(file, 'functions: 3\n');
    const bad = `import { loadConfigModuleFrom } from ${JSON.stringify(codeCache)};
      try { loadConfigModuleFrom(${JSON.stringify(bundle)}).loader.loadRuntimeConfig(${JSON.stringify(file)}, 'sql', {}); } catch (err) { process.stdout.write(err.message); }`;
    const message = execFileSync(process.execPath, [...INSTANCE_NODE_FLAGS, '--input-type=module', '-e', bad], { encoding: 'utf8' });
    assert.throws(
      () => loadRuntimeConfig(file, 'sql', {}),
      (err: Error) => err.message === message && /functions/.test(message),
    );
  } finally {
    cleanup(dir);
  }
});
