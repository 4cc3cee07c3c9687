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

// The server process does without json (1 MB of it and re): its own string escaping and config
// reading must give what json gives, on both interpreters.
for (const kind of ['python27', 'python36'] as const) {
  test(`${kind}: the log's string escaping and the config reader agree with json, and the server loads neither json nor re`, () => {
    const python = findPython({ runtime: kind, configFile: 'service.yml' });
    const script = `# -*- coding: utf-8 -*-
import sys
sys.path.insert(0, ${JSON.stringify(PY_ROOT)})
# Python 2's start-up (site) has loaded re already: what counts is what the runtime adds.
before = set(sys.modules)
from baetyl_runtime import main
loaded = sorted(m for m in ('json', 're') if m in sys.modules and m not in before)
import json, random
from baetyl_runtime.log import json_string
from baetyl_runtime.json_codec import loads as loads_json
try:
    unichr
except NameError:
    unichr = chr
random.seed(7)
samples = [u'', u'a b', u'"q"\\\\', u'\\x00\\x1f\\x7f\\u2028\\u00e9\\U0001F600', u'line\\nnext\\ttab\\r\\b\\f']
if sys.version_info[0] == 2:
    samples.append('caf\\xc3\\xa9')
for _ in range(2000):
    samples.append(u''.join(unichr(random.choice([random.randint(0, 0x7f), random.randint(0, 0x3000)])) for _ in range(random.randint(0, 20))))
bad = [repr(s) for s in samples if json_string(s) != json.dumps(s, ensure_ascii=False)]
cfg = json.dumps({'kind': 'python', 'server': {'timeout': 30000, 'f': 1.5, 'neg': -3, 'big': 1e300}, 'functions': [{'name': u'f\\u00e9'}], 'n': None, 't': True, 'w': []})
same = loads_json(' ' + cfg + '\\n') == json.loads(cfg)
refused = 0
for text in ['', '{', '{} x', '[1,]']:
    try:
        loads_json(text)
    except ValueError:
        refused += 1
print(json.dumps({'loaded': loaded, 'bad': bad[:3], 'same': same, 'refused': refused}))
`;
    const out = JSON.parse(execFileSync(python.path, ['-c', script], { encoding: 'utf8' }).trim()) as Record<string, unknown>;
    assert.deepEqual(out, { loaded: [], bad: [], same: true, refused: 4 });
  });
}
