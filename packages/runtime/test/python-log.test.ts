// The python runtime's own log follows logger.age.max like every other service's: backups last
// written longer ago are removed when it opens the log, on the real interpreters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from '../src/python/interpreter.js';
import { writeAged } from '@baetyl/test-support';

const PY_ROOT = fileURLToPath(new URL('../../python', import.meta.url));

for (const kind of ['python27', 'python36'] as const) {
  test(`${kind}: logger.age.max removes old backups, never the log itself`, () => {
    const python = findPython({ runtime: kind, configFile: 'service.yml' });
    const dir = mkdtempSync(join(tmpdir(), `pylog-${kind}-`));
    const old = (name: string, days: number) => writeAged(dir, name, days);
    old('service.log', 30);
    old('service1.log', 1);
    old('service2.log', 4);
    old('service3.log.gz', 40);
    old('other1.log', 40);
    const script = `import sys; sys.path.insert(0, ${JSON.stringify(PY_ROOT)})
from baetyl_runtime.log import Logger
Logger({'path': 'service.log', 'age': {'max': 3}}, ${JSON.stringify(dir)}, stderr=False).info('hello')`;
    execFileSync(python.path, ['-c', script]);
    assert.deepEqual(readdirSync(dir).sort(), ['other1.log', 'service.log', 'service1.log']);
  });
}
