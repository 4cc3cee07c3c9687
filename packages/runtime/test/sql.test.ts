// The SQL runtime's language: parsing, errors with positions, evaluation and output form.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSql, marshalGo, parseSql, runSql, SqlRuntimeError, SqlSyntaxError, tokenize } from '../src/index.js';

function run(sql: string, payload: string, qos = 0, topic = 't'): string {
  return runSql(parseSql(sql), { Payload: Buffer.from(payload), QOS: qos, Topic: topic }).toString();
}

function syntaxError(sql: string): SqlSyntaxError {
  try {
    parseSql(sql);
  } catch (err) {
    assert.ok(err instanceof SqlSyntaxError, `expected a SqlSyntaxError, got ${String(err)}`);
    return err;
  }
  assert.fail(`"${sql}" parsed, but should not`);
}

describe('SQL: the tutorial', () => {
  const sql = 'select qos() as qos, topic() as topic, * where id < 10';
  test('{"id":1} on t at QoS 0 gives exactly {"id":1,"qos":0,"topic":"t"}', () => {
    assert.equal(run(sql, '{"id":1}'), '{"id":1,"qos":0,"topic":"t"}');
  });
  test('QoS 1 shows in qos()', () => {
    assert.equal(run(sql, '{"id":1}', 1), '{"id":1,"qos":1,"topic":"t"}');
  });
  test('{"id":10} is filtered out (empty payload)', () => {
    assert.equal(run(sql, '{"id":10}'), '');
  });
  test('{"err":"x"} has no id: NULL < 10 is not true, filtered out', () => {
    assert.equal(run(sql, '{"err":"x"}'), '');
  });
  test("the docs' other example selects fields", () => {
    assert.equal(
      run('SELECT temperature, ts, unit WHERE temperature > 50', '{"unit":"C","ts":5,"temperature":51,"x":1}'),
      '{"temperature":51,"ts":5,"unit":"C"}',
    );
    assert.equal(run('SELECT temperature, ts, unit WHERE temperature > 50', '{"temperature":50}'), '');
  });
});

describe('SQL: grammar', () => {
  test('keywords are case-insensitive, field names are not', () => {
    assert.equal(run('SeLeCt Id, id wHeRe id = 1', '{"id":1,"Id":2}'), '{"Id":2,"id":1}');
  });
  test('field paths, array indexes and quoted names', () => {
    assert.equal(
      run('select a.b.c, a.list[1] as second, "odd-name" as odd', '{"a":{"b":{"c":3},"list":[7,8]},"odd-name":true}'),
      '{"c":3,"odd":true,"second":8}',
    );
  });
  test("literals: numbers, single-quoted strings with '' escapes, true/false/null", () => {
    assert.equal(
      run("select 1.5 as n, -2 as m, 1e3 as e, 'it''s' as s, true as t, false as f, null as z", '{}'),
      '{"e":1000,"f":false,"m":-2,"n":1.5,"s":"it\'s","t":true,"z":null}',
    );
  });
  test('arithmetic with precedence and parentheses; unaliased expressions are named _<position>', () => {
    assert.equal(
      run('select a + b * 2 as x, (a + b) * 2 as y, a % 4 as m, a / 4 as d, -a as neg, a - b - 1', '{"a":10,"b":3}'),
      '{"_6":6,"d":2.5,"m":2,"neg":-10,"x":16,"y":26}',
    );
  });
  test('dotted aliases build nested objects and merge', () => {
    assert.equal(run('select a as x.y, b as x.z, topic() as meta.topic', '{"a":1,"b":2}'), '{"meta":{"topic":"t"},"x":{"y":1,"z":2}}');
  });
  test('named items win over *, and * with a nested alias does not change the input', () => {
    assert.equal(run("select *, 'new' as id, 5 as o.added", '{"id":1,"o":{"keep":true}}'), '{"id":"new","o":{"added":5,"keep":true}}');
  });
  test('comparison operators', () => {
    const cases: Array<[string, boolean]> = [
      ['a = 1', true],
      ['a == 1', true],
      ['a != 1', false],
      ['a <> 2', true],
      ['a < 2', true],
      ['a <= 1', true],
      ['a > 1', false],
      ['a >= 1', true],
      ["s = 'x'", true],
      ["s < 'y'", true],
      ['a = s', false],
      ['a != s', true],
      ['a < s', false],
      ['o = o', true],
    ];
    for (const [cond, want] of cases) {
      assert.equal(run(`select 1 as hit where ${cond}`, '{"a":1,"s":"x","o":{"k":[1]}}'), want ? '{"hit":1}' : '', cond);
    }
  });
  test('AND, OR, NOT and parentheses, with SQL precedence', () => {
    const p = '{"a":1,"b":2}';
    assert.equal(run('select 1 as hit where a = 1 or b = 3 and a = 2', p), '{"hit":1}');
    assert.equal(run('select 1 as hit where (a = 1 or b = 3) and a = 2', p), '');
    assert.equal(run('select 1 as hit where not a = 2 and not (b = 3)', p), '{"hit":1}');
  });
  test('three-valued logic: a missing field is NULL', () => {
    const p = '{"a":1}';
    assert.equal(run('select 1 as hit where missing = 1', p), '');
    assert.equal(run('select 1 as hit where not (missing = 1)', p), '');
    assert.equal(run('select 1 as hit where missing = 1 or a = 1', p), '{"hit":1}');
    assert.equal(run('select 1 as hit where missing = 1 and a = 2', p), '');
    assert.equal(run('select missing + 1 as x, missing', p), '{"x":null}');
  });
  test('IS NULL and IS NOT NULL (JSON null and missing fields are both NULL)', () => {
    const p = '{"n":null,"v":0}';
    assert.equal(run('select 1 as hit where n is null and missing IS NULL and v is not null', p), '{"hit":1}');
    assert.equal(run('select 1 as hit where v is null', p), '');
    assert.equal(run('select n', p), '{"n":null}');
  });
  test('IN and NOT IN', () => {
    assert.equal(run("select 1 as hit where s in ('a', 'b')", '{"s":"b"}'), '{"hit":1}');
    assert.equal(run('select 1 as hit where n in (1, 2, 3)', '{"n":4}'), '');
    assert.equal(run('select 1 as hit where n not in (1, 2, 3)', '{"n":4}'), '{"hit":1}');
    assert.equal(run('select 1 as hit where n not in (1, null)', '{"n":4}'), '');
  });
  test('LIKE with % and _, NOT LIKE, ESCAPE', () => {
    const hit = (cond: string, p: string) => run(`select 1 as hit where ${cond}`, p) === '{"hit":1}';
    assert.ok(hit("name like 'ab%'", '{"name":"abc"}'));
    assert.ok(hit("name like 'a_c'", '{"name":"abc"}'));
    assert.ok(!hit("name like 'a_c'", '{"name":"abbc"}'));
    assert.ok(hit("name like '%.txt'", '{"name":"a.txt"}'));
    assert.ok(!hit("name like '%.txt'", '{"name":"atxt"}'));
    assert.ok(hit("name not like 'x%'", '{"name":"abc"}'));
    assert.ok(hit("name like '100!%' escape '!'", '{"name":"100%"}'));
    assert.ok(!hit("name like '100!%' escape '!'", '{"name":"1000"}'));
  });
  test('BETWEEN, and || concatenation', () => {
    assert.equal(run('select 1 as hit where t between 10 and 20 and u not between 1 and 2', '{"t":15,"u":5}'), '{"hit":1}');
    assert.equal(run("select a || '-' || b as ab", '{"a":"x","b":2}'), '{"ab":"x-2"}');
  });
  test('functions', () => {
    assert.equal(
      run(
        "select upper(s) as u, lower('AB') as l, length(s) as n, substring(s, 2, 2) as sub, concat(s, 1) as c, coalesce(missing, 7) as co, abs(-2) as a, round(2.567, 1) as r, clientid() as cid",
        '{"s":"héllo"}',
      ),
      '{"a":2,"c":"héllo1","cid":null,"co":7,"l":"ab","n":5,"r":2.6,"sub":"él","u":"HÉLLO"}',
    );
  });
  test('a trailing semicolon and -- comments are allowed', () => {
    assert.equal(run('select a -- the field\n where a = 1;', '{"a":1}'), '{"a":1}');
  });
});

describe('SQL: output is Go-marshalled JSON', () => {
  test('keys sorted at every level, compact, HTML-safe escapes', () => {
    assert.equal(
      marshalGo({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: '<a&b>' }, A: null }),
      '{"A":null,"a":{"c":"\\u003ca\\u0026b\\u003e","d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
  test('numbers like Go (1.0 is 1, exponents from 1e21)', () => {
    assert.equal(run('select *', '{"a":1.0,"b":1e21,"c":0.0000001,"d":-0.5}'), '{"a":1,"b":1e+21,"c":1e-7,"d":-0.5}');
  });
  test('control characters as \\u00XX, line separators escaped', () => {
    assert.equal(marshalGo('a\u0001\n\u2028'), '"a\\u0001\\n\\u2028"');
  });
});

describe('SQL: syntax errors name the place and what was expected', () => {
  const cases: Array<[string, number, number, RegExp]> = [
    ['select', 1, 7, /expected a field, an expression or \*, found the end of the SQL/],
    ['select a,', 1, 10, /expected a field, an expression or \*/],
    ['select a where', 1, 15, /expected an expression, found the end of the SQL/],
    ['select a from t', 1, 10, /FROM is not supported/],
    ['select a b c', 1, 12, /expected a comma, WHERE or the end of the SQL, found the name "c"/],
    ['select (a + 1', 1, 14, /expected an operator or "\)"/],
    ["select 'abc", 1, 8, /string is never closed/],
    ['select nosuch(1)', 1, 8, /unknown function nosuch\(\)/],
    ['select qos(1)', 1, 8, /qos\(\) takes 0 arguments, got 1/],
    ['select a\nwhere a in ()', 2, 13, /at least one value in the IN list/],
    ['select a\nwhere a is 5', 2, 12, /expected NULL or NOT NULL after IS, found the number 5/],
    ['select a where a between 1 or 2', 1, 28, /expected AND between the two bounds of BETWEEN/],
    ['update t set a = 1', 1, 1, /expected SELECT at the start, found the name "update"/],
    ['select a # b', 1, 10, /unexpected character "#"/],
    ['select 1a', 1, 8, /a number cannot run into a name/],
  ];
  for (const [sql, line, column, reason] of cases) {
    test(JSON.stringify(sql), () => {
      const err = syntaxError(sql);
      assert.equal(err.line, line, err.message);
      assert.equal(err.column, column, err.message);
      assert.match(err.message, reason);
      assert.match(err.message, new RegExp(`^SQL syntax error at line ${line}, column ${column}: `));
      // The message shows the line and a caret under the place.
      const [, shown, caret] = err.message.split('\n');
      assert.equal(caret!.indexOf('^') - 2, column - 1);
      assert.equal(shown!.slice(2), sql.split('\n')[line - 1]);
    });
  }
  test('compileSql names the function', () => {
    assert.throws(() => compileSql('sql-filter', 'select * where'), /^LoadError: function "sql-filter": SQL syntax error at line 1, column 15/);
  });
  test('tokens carry their offsets', () => {
    assert.deepEqual(
      tokenize("select a.b, 'x'").map((t) => [t.kind, t.pos]),
      [
        ['word', 0],
        ['word', 7],
        ['op', 8],
        ['word', 9],
        ['op', 10],
        ['string', 12],
        ['eof', 15],
      ],
    );
  });
});

describe('SQL: messages it cannot handle are errors', () => {
  const sql = parseSql('select * where id < 10');
  for (const [what, payload, reason] of [
    ['non-JSON', 'hi', /the payload is not JSON/],
    ['a JSON array', '[1]', /the payload is an array, not a JSON object/],
    ['a JSON number', '5', /the payload is a number, not a JSON object/],
  ] as const) {
    test(what, () => {
      assert.throws(
        () => runSql(sql, { Payload: Buffer.from(payload), QOS: 0, Topic: 't' }),
        (err: unknown) => err instanceof SqlRuntimeError && reason.test(err.message),
      );
    });
  }
  test('an empty payload is {}', () => {
    assert.equal(run('select qos() as q', ''), '{"q":0}');
  });
  test('a type mismatch in arithmetic names the place', () => {
    assert.throws(() => run('select a * 2 as x', '{"a":"s"}'), /cannot apply "\*" to a string and a number \(at line 1, column 10 of the SQL\)/);
  });
  test('a condition that is not boolean names the place', () => {
    assert.throws(() => run('select a where a', '{"a":3}'), /a condition must be true or false, but this is a number \(at line 1, column 16/);
  });
});
