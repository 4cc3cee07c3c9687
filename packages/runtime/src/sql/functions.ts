// The functions a SQL function may call. qos() and topic() come from Baetyl's docs; the rest
// are small, unsurprising helpers. clientid() exists for compatibility but the edge has no data
// for it (FunctionMessage carries no client id), so it is always NULL.
import type { JsonValue } from './ast.js';

/** MISSING (undefined) is a field that is not there; NULL is null. */
export type Value = JsonValue | undefined;

export interface MessageContext {
  qos: number;
  topic: string;
}

export class SqlTypeError extends Error {}

export interface SqlFunction {
  min: number;
  max: number;
  run(args: Value[], ctx: MessageContext): Value;
}

const isNull = (v: Value): v is null | undefined => v === null || v === undefined;

function str(name: string, v: Value): string {
  if (typeof v !== 'string') throw new SqlTypeError(`${name}() expects a string, got ${typeName(v)}`);
  return v;
}

function num(name: string, v: Value): number {
  if (typeof v !== 'number') throw new SqlTypeError(`${name}() expects a number, got ${typeName(v)}`);
  return v;
}

export function typeName(v: Value): string {
  if (v === undefined) return 'a missing field';
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

const unaryNum = (name: string, f: (n: number) => number): SqlFunction => ({
  min: 1,
  max: 1,
  run: ([v]) => (isNull(v) ? null : f(num(name, v))),
});

export const FUNCTIONS: Record<string, SqlFunction> = {
  qos: { min: 0, max: 0, run: (_a, ctx) => ctx.qos },
  topic: { min: 0, max: 0, run: (_a, ctx) => ctx.topic },
  clientid: { min: 0, max: 0, run: () => null },
  lower: { min: 1, max: 1, run: ([v]) => (isNull(v) ? null : str('lower', v).toLowerCase()) },
  upper: { min: 1, max: 1, run: ([v]) => (isNull(v) ? null : str('upper', v).toUpperCase()) },
  length: {
    min: 1,
    max: 1,
    run: ([v]) => (isNull(v) ? null : Array.isArray(v) ? v.length : [...str('length', v)].length),
  },
  substring: {
    min: 2,
    max: 3,
    run: ([s, start, len]) => {
      if (isNull(s) || isNull(start) || (len !== undefined && len === null)) return null;
      const chars = [...str('substring', s)];
      const from = Math.max(1, Math.trunc(num('substring', start)));
      const end = len === undefined ? chars.length + 1 : Math.trunc(num('substring', start)) + Math.max(0, Math.trunc(num('substring', len)));
      return chars.slice(from - 1, Math.max(from - 1, end - 1)).join('');
    },
  },
  concat: {
    min: 1,
    max: Infinity,
    run: (args) => {
      if (args.some(isNull)) return null;
      return args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join('');
    },
  },
  coalesce: { min: 1, max: Infinity, run: (args) => args.find((a) => !isNull(a)) ?? null },
  abs: unaryNum('abs', Math.abs),
  floor: unaryNum('floor', Math.floor),
  ceil: unaryNum('ceil', Math.ceil),
  round: {
    min: 1,
    max: 2,
    run: ([v, d]) => {
      if (isNull(v)) return null;
      const digits = d === undefined || d === null ? 0 : Math.trunc(num('round', d));
      const f = 10 ** digits;
      return Math.round(num('round', v) * f) / f;
    },
  },
};
