// The host's light logger writes the same bytes as core's winston logger (Baetyl's text form).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, type LogLevel } from '@baetyl/core/log/logger';
import { normalLevel, stderrLogger, textLine, type LogFields, type RuntimeLogger } from '../src/log/logger.js';

type Line = [LogLevel, string, LogFields?];

const LINES: Line[] = [
  ['info', 'service starting: sql runtime with sql-filter on 127.0.0.1:50051'],
  ['warn', 'plain'],
  ['error', 'with "quotes", a \\ and a\nnewline'],
  ['info', ''],
  ['info', 'hello wörld ✓'],
  ['debug', 'call done', { function: 'f', invokeid: 'a-b-c', ms: 3 }],
  ['info', 'printed', { worker: 2, stream: 'stdout' }],
  ['warn', 'odd fields', { z: '', a: undefined, m: { x: [1, 'y'] }, b: true, c: 'two words', d: null }],
  ['error', 'safe-chars/._@^+:', { invokeid: '00000000-0000-0000-0000-000000000000' }],
];

const TIME = /^time=(\S+) /;

/** Each line written to process.stderr while `fn` runs, time replaced (after checking its form). */
async function stderrLines(fn: () => void | Promise<void>): Promise<string[]> {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.stderr.write = write;
  }
  return chunks
    .join('')
    .split(/(?<=\n)/)
    .map((l) => {
      const t = TIME.exec(l)?.[1];
      assert.ok(t && !Number.isNaN(Date.parse(t)) && new Date(t).toISOString() === t, `an ISO time first: ${l}`);
      return l.replace(TIME, 'time=T ');
    });
}

const logAll = (logger: RuntimeLogger) => {
  for (const [level, msg, fields] of LINES) {
    logger[level](msg, fields);
    logger.log(level, msg, fields);
  }
};

describe('host logger', () => {
  for (const level of ['debug', 'info', 'warning', 'error'] as const) {
    test(`level ${level}: the same bytes as core's winston logger, the same lines dropped`, async () => {
      const winston = await stderrLines(() => logAll(createLogger({ level: level as LogLevel, format: 'text' })));
      const light = await stderrLines(() => logAll(stderrLogger(normalLevel(level))));
      assert.ok(winston.length > 0);
      assert.deepEqual(light, winston);
    });
  }

  test('isDebugEnabled as winston says it', () => {
    assert.equal(stderrLogger('debug').isDebugEnabled(), true);
    assert.equal(stderrLogger('info').isDebugEnabled(), false);
  });

  test('a line by hand', () => {
    assert.equal(
      textLine('info', 'a b', { worker: 1, stream: 'stdout' }, '2026-01-01T00:00:00.000Z'),
      'time=2026-01-01T00:00:00.000Z level=info msg="a b" stream=stdout worker=1\n',
    );
  });
});
