// Running a parsed SQL function on one message. NULL logic is SQL's three-valued one; a field that
// is not in the message is MISSING, which behaves as NULL in expressions and is left out of the
// output (so `SELECT a, b` on {"a":1} gives {"a":1}). A WHERE that is not TRUE filters the
// message out: the result is an empty payload, which the function manager does not publish.
import type { CompareOp, Expr, JsonValue, Query } from './ast.js';
import { FUNCTIONS, SqlTypeError, typeName, type MessageContext, type Value } from './functions.js';
import { lineColumn } from './lexer.js';

/** A message the SQL cannot be applied to (a type mismatch, a payload that is not an object). */
export class SqlRuntimeError extends Error {
  override name = 'SqlRuntimeError';
}

type Doc = { [key: string]: JsonValue };

function at(query: Query, pos: number, reason: string): SqlRuntimeError {
  const { line, column } = lineColumn(query.sql, pos);
  return new SqlRuntimeError(`${reason} (at line ${line}, column ${column} of the SQL)`);
}

const isNull = (v: Value): v is null | undefined => v === null || v === undefined;

function isObject(v: Value): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Comparison with SQL's NULL rule; values of different types are unequal and unordered. */
function compare(op: CompareOp, l: Value, r: Value): boolean | null {
  if (isNull(l) || isNull(r)) return null;
  const orderable = (typeof l === 'number' || typeof l === 'string' || typeof l === 'boolean') && typeof l === typeof r;
  if (op === '=') return deepEqual(l, r);
  if (op === '!=') return !deepEqual(l, r);
  if (!orderable) return null;
  const a = l as number | string | boolean;
  const b = r as number | string | boolean;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

const likeCache = new Map<string, RegExp>();

function likeRegex(pattern: string, escape: string | undefined): RegExp {
  const key = `${escape ?? ''}\0${pattern}`;
  let re = likeCache.get(key);
  if (!re) {
    let src = '';
    const chars = [...pattern];
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (escape !== undefined && c === escape && i + 1 < chars.length) {
        src += chars[++i]!.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      } else if (c === '%') src += '.*';
      else if (c === '_') src += '.';
      else src += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`^${src}$`, 'su');
    if (likeCache.size > 1000) likeCache.clear();
    likeCache.set(key, re);
  }
  return re;
}

class Evaluator {
  constructor(
    private readonly query: Query,
    private readonly doc: Doc,
    private readonly ctx: MessageContext,
  ) {}

  /** TRUE, FALSE or NULL; anything else in a condition is a mistake in the SQL or the message. */
  truth(e: Expr): boolean | null {
    const v = this.eval(e);
    if (isNull(v)) return null;
    if (typeof v === 'boolean') return v;
    throw at(this.query, e.pos, `a condition must be true or false, but this is ${typeName(v)}`);
  }

  eval(e: Expr): Value {
    switch (e.kind) {
      case 'literal':
        return e.value;
      case 'path': {
        let cur: Value = this.doc;
        for (const seg of e.segments) {
          if (typeof seg === 'string') cur = isObject(cur) && Object.hasOwn(cur, seg) ? cur[seg] : undefined;
          else cur = Array.isArray(cur) && seg < cur.length ? cur[seg] : undefined;
          if (cur === undefined) return undefined;
        }
        return cur;
      }
      case 'call': {
        const args = e.args.map((a) => this.eval(a));
        try {
          return FUNCTIONS[e.name]!.run(args, this.ctx);
        } catch (err) {
          if (err instanceof SqlTypeError) throw at(this.query, e.pos, err.message);
          throw err;
        }
      }
      case 'neg': {
        const v = this.eval(e.expr);
        if (isNull(v)) return null;
        if (typeof v !== 'number') throw at(this.query, e.pos, `cannot negate ${typeName(v)}`);
        return -v;
      }
      case 'not': {
        const v = this.truth(e.expr);
        return v === null ? null : !v;
      }
      case 'and': {
        const l = this.truth(e.left);
        if (l === false) return false;
        const r = this.truth(e.right);
        if (r === false) return false;
        return l === null || r === null ? null : true;
      }
      case 'or': {
        const l = this.truth(e.left);
        if (l === true) return true;
        const r = this.truth(e.right);
        if (r === true) return true;
        return l === null || r === null ? null : false;
      }
      case 'arith': {
        const l = this.eval(e.left);
        const r = this.eval(e.right);
        if (isNull(l) || isNull(r)) return null;
        if (typeof l !== 'number' || typeof r !== 'number') {
          throw at(this.query, e.pos, `cannot apply "${e.op}" to ${typeName(l)} and ${typeName(r)}`);
        }
        switch (e.op) {
          case '+':
            return l + r;
          case '-':
            return l - r;
          case '*':
            return l * r;
          case '/':
            return r === 0 ? null : l / r;
          case '%':
            return r === 0 ? null : l % r;
        }
        return null;
      }
      case 'concat': {
        const l = this.eval(e.left);
        const r = this.eval(e.right);
        if (isNull(l) || isNull(r)) return null;
        const text = (v: Value) => {
          if (typeof v === 'object') throw at(this.query, e.pos, `cannot apply "||" to ${typeName(v)}`);
          return String(v);
        };
        return text(l) + text(r);
      }
      case 'compare':
        return compare(e.op, this.eval(e.left), this.eval(e.right));
      case 'isnull': {
        const v = this.eval(e.expr);
        return isNull(v) !== e.negated;
      }
      case 'in': {
        const v = this.eval(e.expr);
        if (isNull(v)) return null;
        let sawNull = false;
        for (const item of e.list) {
          const x = this.eval(item);
          if (isNull(x)) sawNull = true;
          else if (deepEqual(v, x)) return !e.negated;
        }
        return sawNull ? null : e.negated;
      }
      case 'like': {
        const v = this.eval(e.expr);
        const p = this.eval(e.pattern);
        const esc = e.escape ? this.eval(e.escape) : undefined;
        if (isNull(v) || isNull(p) || esc === null) return null;
        if (esc !== undefined && (typeof esc !== 'string' || [...esc].length !== 1)) {
          throw at(this.query, e.pos, 'ESCAPE takes a single character');
        }
        if (typeof v !== 'string' || typeof p !== 'string') return null;
        return likeRegex(p, esc).test(v) !== e.negated;
      }
      case 'between': {
        const v = this.eval(e.expr);
        const lo = compare('>=', v, this.eval(e.low));
        const hi = compare('<=', v, this.eval(e.high));
        let res: boolean | null;
        if (lo === false || hi === false) res = false;
        else if (lo === null || hi === null) res = null;
        else res = true;
        return res === null ? null : res !== e.negated;
      }
    }
  }
}

/** Puts `value` at a (possibly dotted) name, copying objects on the way so the input is never changed. */
function setPath(out: Doc, name: string[], value: JsonValue): void {
  let cur = out;
  for (let i = 0; i < name.length - 1; i++) {
    const key = name[i]!;
    const existing = cur[key];
    const copy: Doc = Object.create(null) as Doc;
    if (isObject(existing)) for (const k of Object.keys(existing)) copy[k] = existing[k]!;
    cur[key] = copy;
    cur = copy;
  }
  cur[name[name.length - 1]!] = value;
}

/**
 * Applies the query to one decoded message. Returns undefined when WHERE filters it out.
 * `*` copies the message's top-level fields; named items are written after it, so they win.
 */
export function evaluate(query: Query, doc: Doc, ctx: MessageContext): Doc | undefined {
  const ev = new Evaluator(query, doc, ctx);
  if (query.where && ev.truth(query.where) !== true) return undefined;
  // Evaluate everything before writing, so no item sees another's output.
  const values = query.items.map((item) => (item.kind === 'expr' ? ev.eval(item.expr) : undefined));
  const out: Doc = Object.create(null) as Doc;
  if (query.items.some((i) => i.kind === 'star')) for (const k of Object.keys(doc)) out[k] = doc[k]!;
  query.items.forEach((item, i) => {
    const v = values[i];
    if (item.kind === 'expr' && v !== undefined) setPath(out, item.name, v);
  });
  return out;
}

/** Decodes a payload for SQL: a JSON object (an empty payload counts as {}). */
export function decodePayload(payload: Buffer): Doc {
  if (payload.length === 0) return Object.create(null) as Doc;
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new SqlRuntimeError(`the payload is not JSON (${(err as Error).message}); a SQL function needs a JSON object`);
  }
  if (!isObject(v as Value)) throw new SqlRuntimeError(`the payload is ${typeName(v as Value)}, not a JSON object; a SQL function needs a JSON object`);
  return v as Doc;
}
