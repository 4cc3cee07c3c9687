// The handler process reads events and writes results with json_codec, not json, and watches the
// server with a bare thread, not threading (together 1.4 MB of each python3 process): on the real
// interpreters, the codec must give what json.loads and json.dumps give, value for value and error
// for error, and the handler's path must load neither json nor threading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findPython } from '../src/python/interpreter.js';

const PY_ROOT = fileURLToPath(new URL('../../python', import.meta.url));

const SCRIPT = `# -*- coding: utf-8 -*-
import sys
sys.path.insert(0, ${JSON.stringify(PY_ROOT)})
before = set(sys.modules)
import os
from baetyl_runtime import handler_process, handlers
r, w = os.pipe()
handler_process._watch_server(r)  # the thread that ends the process with the server

def sayhi(event, context):
    return {'event': event if isinstance(event, dict) else len(event), 'topic': context['messageTopic']}

ok_json = handlers.run(sayhi, 'f', 0, b't', 1, b'id', b'{"id": 1, "s": "\\xc3\\xa9"}', lambda *a: None)
ok_raw = handlers.run(sayhi, 'f', 0, b't', 1, b'id', b'\\x00\\xffnot json', lambda *a: None)
lean = sorted(m for m in ('json', 're', 'enum', 'collections', 'threading', 'traceback') if m in sys.modules and m not in before)

import json, random, collections
from baetyl_runtime import json_codec
PY2 = sys.version_info[0] == 2

def outcome(fn, arg):
    try:
        return ('ok', repr(fn(arg)))
    except ValueError:
        return ('refused',)
    except Exception as err:  # noqa
        return (type(err).__name__, str(err))

def jloads(b):
    return json.loads(b if (PY2 or sys.version_info >= (3, 6)) else b.decode('utf-8'))

docs = [b'', b' ', b'{}', b' {"a": 1} \\n', b'\\x0c{}', b'{}\\x0b', b'{"a":1} x', b'[1,]', b'{', b'{"a": }',
        b'NaN', b'-Infinity', b'Infinity', b'1e400', b'12345678901234567890', b'-0', b'0.1', b'"\\\\ud800"',
        b'"\\x01"', b'"abc', b'true', b'null', b'false ', b'{"a":1,"a":2}', b'[' * 50 + b']' * 50,
        b'\\xc3(', b'\\x00', b'\\x00\\x00', b'{\\x00', b'\\xff\\xfe', b'\\xfe\\xff', b'\\xef\\xbb\\xbf{"a": 1}',
        b'"\\xe2\\x80\\xa8"', b'\\xa0{}', u'{"k": "\\u00e9\\U0001F600"}'.encode('utf-8')]
for enc in ('utf-16', 'utf-16-le', 'utf-16-be', 'utf-32', 'utf-32-le', 'utf-32-be', 'utf-8-sig'):
    for text in (u'{"k": "\\u00e9"}', u'7', u'[]', u' 1 '):
        docs.append(text.encode(enc))
random.seed(11)
alphabet = bytearray(b' \\t\\n\\r{}[],:"\\\\-+.0123456789eEtrufalsnNI\\x00\\xc3\\xa9\\xff')
for _ in range(3000):
    docs.append(bytes(bytearray(random.choice(alphabet) for _ in range(random.randint(0, 12)))))
for i in range(300):
    v = {'i': i, 'f': random.random() * 10 ** random.randint(-5, 300), 'l': [None, True, -i], 's': u'\\u00e9' * (i % 3)}
    docs.append(json.dumps(v).encode('ascii'))
bad_loads = [repr(d) for d in docs if outcome(jloads, d) != outcome(json_codec.loads, d)]

class Sub(dict):
    pass

circular = []
circular.append(circular)
values = [{}, [], (), u'x', u'\\u00e9\\x00"\\\\\\n', b'bytes', 'str', 0, -1, 2 ** 70, 1e300, -0.0, 0.1, float('nan'),
          float('inf'), True, None, {1: 'a'}, {True: 1, None: 2, 1.5: 3}, {(1, 2): 1}, set([1]), object(),
          circular, Sub(a=[Sub(b=1)]), collections.OrderedDict([('z', 1), ('a', 2)]), [{'a': [1, {'b': None}]}],
          {'x': object()}, {u'\\u00e9': u'\\U0001F600'}]
bad_dumps = [repr(v) for v in values if outcome(json.dumps, v) != outcome(json_codec.dumps, v)]
print(json.dumps({'lean': lean, 'ok_json': [ok_json[0], json.loads(ok_json[1].decode('utf-8'))], 'ok_raw': ok_raw[0],
                  'bad_loads': bad_loads[:5], 'bad_dumps': bad_dumps[:5], 'docs': len(docs)}))
`;

for (const kind of ['python27', 'python36'] as const) {
  test(`${kind}: the handler's JSON is json's, value for value and error for error, without loading json or threading`, () => {
    const python = findPython({ runtime: kind, configFile: 'service.yml' });
    const out = JSON.parse(execFileSync(python.path, ['-c', SCRIPT], { encoding: 'utf8' }).trim()) as Record<string, unknown>;
    assert.deepEqual(out.bad_loads, []);
    assert.deepEqual(out.bad_dumps, []);
    assert.ok((out.docs as number) > 3000);
    assert.deepEqual(out.ok_json, [true, { event: { id: 1, s: 'é' }, topic: 't' }]);
    assert.equal(out.ok_raw, true);
    // Python 2's site has loaded re already; what counts is that the handler path adds none of these.
    assert.deepEqual(out.lean, []);
  });
}
