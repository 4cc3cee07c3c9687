// The pieces of `baetyl logs` that read: the last lines of a file read backwards across chunk
// boundaries, the fields of logrus text lines, the time merge, and the engine's framed log stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tailFile } from '../src/logs/file-tail.js';
import { lineFields, logfmtFields, mergeByTime } from '../src/logs/line-fields.js';
import { LogStreamLines } from '../src/engine/docker/logs.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'baetyl-tail-')), 'f.log');
  writeFileSync(path, text);
  return path;
}

test('tailFile: the last n lines, as tail -n prints them, across 64 KiB chunks', () => {
  // Lines of many lengths, some longer than a chunk, so that chunk edges fall everywhere.
  const lines = Array.from({ length: 300 }, (_, i) => `${i} ${'x'.repeat((i * 7919) % (i % 50 === 0 ? 90_000 : 1500))} é`);
  const path = file(`${lines.join('\n')}\n`);
  for (const n of [1, 2, 10, 123, 299, 300]) assert.deepEqual(tailFile(path, n), lines.slice(-n), `n=${n}`);
  assert.deepEqual(tailFile(path, 1000), lines, 'more than there are: all');
  assert.deepEqual(tailFile(path, 0), []);
  // No newline at the end: the last line still counts; empty lines are lines.
  assert.deepEqual(tailFile(file('a\n\nb'), 3), ['a', '', 'b']);
  assert.deepEqual(tailFile(file('a\n\nb\n'), 2), ['', 'b']);
  assert.deepEqual(tailFile(file(''), 5), []);
  assert.deepEqual(tailFile(join(tmpdir(), 'no-such-baetyl-log'), 5), []);
  // With a filter: the last n lines it takes, however far back they are.
  assert.deepEqual(
    tailFile(path, 3, (l) => l.startsWith('1')),
    lines.filter((l) => l.startsWith('1')).slice(-3),
  );
});

test('logfmtFields: quoted values with spaces, quotes and key=value inside them', () => {
  const line = 'time=2026-12-01T10:00:00.000Z level=info msg="a \\"quoted\\" instance=fake value" clientid=c1 instance=svc.i1 service=svc';
  assert.deepEqual(logfmtFields(line), {
    time: '2026-12-01T10:00:00.000Z',
    level: 'info',
    msg: 'a "quoted" instance=fake value',
    clientid: 'c1',
    instance: 'svc.i1',
    service: 'svc',
  });
  assert.deepEqual(lineFields('{"level":"info","message":"m","timestamp":"2026-12-01T10:00:00.000Z","instance":"x.i1"}'), {
    level: 'info',
    message: 'm',
    timestamp: '2026-12-01T10:00:00.000Z',
    time: '2026-12-01T10:00:00.000Z',
    instance: 'x.i1',
  });
  assert.deepEqual(lineFields('    at Object.<anonymous> (file.js:1:1)'), {});
});

test('mergeByTime: time order across sources; a line with no time stays under the line before it', () => {
  const merged = mergeByTime([
    [
      { label: 'a', text: 'a1', time: 1 },
      { label: 'a', text: 'a3', time: 3 },
      { label: 'a', text: 'a3 trace' },
    ],
    [
      { label: 'b', text: 'b2', time: 2 },
      { label: 'b', text: 'b4', time: 4 },
    ],
  ]);
  assert.deepEqual(
    merged.map((l) => l.text),
    ['a1', 'b2', 'a3', 'a3 trace', 'b4'],
  );
});

test('LogStreamLines: frames split anywhere, stdout and stderr, and a TTY stream', () => {
  const frame = (stream: number, text: string) => frameBytes(stream, Buffer.from(text));
  const frameBytes = (stream: number, body: Buffer) => {
    const head = Buffer.alloc(8);
    head[0] = stream;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  // A character split across two frames of one stream.
  const e = Buffer.from('é');
  const all = Buffer.concat([
    frame(1, 'one\ntw'),
    frame(2, 'o\nthree é\n'),
    frame(1, 'fo'),
    frameBytes(1, Buffer.concat([Buffer.from('ur'), e.subarray(0, 1)])),
    frameBytes(1, e.subarray(1)),
  ]);
  for (let cut = 1; cut < all.length; cut++) {
    const s = new LogStreamLines();
    const got = [...s.push(all.subarray(0, cut)), ...s.push(all.subarray(cut)), ...s.end()];
    assert.deepEqual(got, ['one', 'two', 'three é', 'fouré'], `cut at ${cut}`);
  }
  const tty = new LogStreamLines();
  assert.deepEqual([...tty.push(Buffer.from('plain text\r\nand more\n')), ...tty.end()], ['plain text', 'and more']);
});
