// A recursive-descent parser for SELECT <list> [WHERE <condition>] (no FROM: the rule picks the
// messages). Precedence, loosest first: OR, AND, NOT, predicates (comparison, IS NULL, IN, LIKE,
// BETWEEN), + - ||, * / %, unary minus, primaries.
import type { ArithOp, CompareOp, Expr, Query, SelectItem } from './ast.js';
import { FUNCTIONS } from './functions.js';
import { describeToken, KEYWORDS, SqlSyntaxError, tokenize, type Token } from './lexer.js';

export function parseSql(sql: string): Query {
  return new Parser(sql).query();
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly sql: string) {
    this.tokens = tokenize(sql);
  }

  private get t(): Token {
    return this.tokens[this.i]!;
  }

  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.t;
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private fail(expected: string, at: Token = this.t): never {
    throw new SqlSyntaxError(`expected ${expected}, found ${describeToken(at)}`, this.sql, at.pos);
  }

  private isKeyword(word: string, t: Token = this.t): boolean {
    return t.kind === 'word' && t.upper === word;
  }

  private acceptKeyword(word: string): Token | undefined {
    return this.isKeyword(word) ? this.next() : undefined;
  }

  private expectKeyword(word: string, what = word): Token {
    return this.acceptKeyword(word) ?? this.fail(what);
  }

  private isOp(op: string, t: Token = this.t): boolean {
    return t.kind === 'op' && t.value === op;
  }

  private acceptOp(op: string): Token | undefined {
    return this.isOp(op) ? this.next() : undefined;
  }

  private expectOp(op: string, what = `"${op}"`): Token {
    return this.acceptOp(op) ?? this.fail(what);
  }

  query(): Query {
    this.expectKeyword('SELECT', 'SELECT at the start');
    const items: SelectItem[] = [this.selectItem(0)];
    while (this.acceptOp(',')) items.push(this.selectItem(items.length));
    let where: Expr | undefined;
    if (this.isKeyword('FROM')) {
      throw new SqlSyntaxError('FROM is not supported: the function gets the messages its rule subscribes to; remove the FROM clause', this.sql, this.t.pos);
    }
    if (this.acceptKeyword('WHERE')) where = this.expr();
    this.acceptOp(';');
    if (this.t.kind !== 'eof') this.fail(where ? 'an operator or the end of the SQL' : 'a comma, WHERE or the end of the SQL');
    return { sql: this.sql, items, where };
  }

  private selectItem(index: number): SelectItem {
    const start = this.t;
    if (this.acceptOp('*')) return { kind: 'star', pos: start.pos };
    if (this.t.kind === 'eof' || this.isKeyword('WHERE')) this.fail('a field, an expression or *');
    const expr = this.expr();
    let name: string[] | undefined;
    if (this.acceptKeyword('AS')) name = this.alias();
    else if (this.t.kind === 'quoted' || (this.t.kind === 'word' && !KEYWORDS.has(this.t.upper))) name = this.alias();
    return { kind: 'expr', expr, name: name ?? defaultName(expr, index), pos: start.pos };
  }

  /** An output name: a.b.c (dots make nested objects), "quoted", or 'string'. */
  private alias(): string[] {
    const t = this.t;
    if (t.kind === 'string' || t.kind === 'quoted') {
      this.next();
      if (t.value === '') this.fail('a non-empty name', t);
      return t.kind === 'string' ? t.value.split('.') : [t.value];
    }
    if (t.kind !== 'word') this.fail('a name after AS');
    this.next();
    const parts = [t.value];
    while (this.acceptOp('.')) {
      const p = this.t;
      if (p.kind !== 'word' && p.kind !== 'quoted') this.fail('a name after "."');
      this.next();
      parts.push(p.value);
    }
    return parts;
  }

  expr(): Expr {
    return this.or();
  }

  private or(): Expr {
    let left = this.and();
    for (let op = this.acceptKeyword('OR'); op; op = this.acceptKeyword('OR')) {
      left = { kind: 'or', left, right: this.and(), pos: op.pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    for (let op = this.acceptKeyword('AND'); op; op = this.acceptKeyword('AND')) {
      left = { kind: 'and', left, right: this.not(), pos: op.pos };
    }
    return left;
  }

  private not(): Expr {
    const op = this.acceptKeyword('NOT');
    if (op) return { kind: 'not', expr: this.not(), pos: op.pos };
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.additive();
    const t = this.t;
    if (t.kind === 'op' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(t.value)) {
      this.next();
      const op = (t.value === '<>' ? '!=' : t.value) as CompareOp;
      return { kind: 'compare', op, left, right: this.additive(), pos: t.pos };
    }
    if (this.acceptKeyword('IS')) {
      const negated = Boolean(this.acceptKeyword('NOT'));
      this.expectKeyword('NULL', negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
      return { kind: 'isnull', expr: left, negated, pos: t.pos };
    }
    let negated = false;
    if (this.isKeyword('NOT') && ['IN', 'LIKE', 'BETWEEN'].includes(this.peek().upper)) {
      this.next();
      negated = true;
    }
    if (this.acceptKeyword('IN')) {
      this.expectOp('(', '"(" after IN');
      const list: Expr[] = [];
      if (this.isOp(')')) this.fail('at least one value in the IN list');
      do list.push(this.additive());
      while (this.acceptOp(','));
      this.expectOp(')', 'a comma or ")" to close the IN list');
      return { kind: 'in', expr: left, list, negated, pos: t.pos };
    }
    if (this.acceptKeyword('LIKE')) {
      const pattern = this.additive();
      const escape = this.acceptKeyword('ESCAPE') ? this.additive() : undefined;
      return { kind: 'like', expr: left, pattern, escape, negated, pos: t.pos };
    }
    if (this.acceptKeyword('BETWEEN')) {
      const low = this.additive();
      this.expectKeyword('AND', 'AND between the two bounds of BETWEEN');
      return { kind: 'between', expr: left, low, high: this.additive(), negated, pos: t.pos };
    }
    if (negated) this.fail('IN, LIKE or BETWEEN after NOT');
    return left;
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.t;
      if (this.acceptOp('+') || this.acceptOp('-')) left = { kind: 'arith', op: t.value as ArithOp, left, right: this.multiplicative(), pos: t.pos };
      else if (this.acceptOp('||')) left = { kind: 'concat', left, right: this.multiplicative(), pos: t.pos };
      else return left;
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.t;
      if (this.acceptOp('*') || this.acceptOp('/') || this.acceptOp('%'))
        left = { kind: 'arith', op: t.value as ArithOp, left, right: this.unary(), pos: t.pos };
      else return left;
    }
  }

  private unary(): Expr {
    const t = this.t;
    if (this.acceptOp('-')) {
      const expr = this.unary();
      // Fold -5 into a literal so it reads back as a number.
      if (expr.kind === 'literal' && typeof expr.value === 'number') return { kind: 'literal', value: -expr.value, pos: t.pos };
      return { kind: 'neg', expr, pos: t.pos };
    }
    if (this.acceptOp('+')) return this.unary();
    return this.primary();
  }

  private primary(): Expr {
    const t = this.t;
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'literal', value: Number(t.value), pos: t.pos };
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value, pos: t.pos };
      case 'quoted':
        return this.path();
      case 'op':
        if (this.acceptOp('(')) {
          const inner = this.expr();
          this.expectOp(')', 'an operator or ")"');
          return inner;
        }
        if (t.value === '*') this.fail('an expression ("*" selects every field only on its own in the select list)');
        return this.fail('an expression');
      case 'word': {
        if (t.upper === 'TRUE' || t.upper === 'FALSE') {
          this.next();
          return { kind: 'literal', value: t.upper === 'TRUE', pos: t.pos };
        }
        if (t.upper === 'NULL') {
          this.next();
          return { kind: 'literal', value: null, pos: t.pos };
        }
        if (KEYWORDS.has(t.upper)) return this.fail('an expression');
        if (this.isOp('(', this.peek())) return this.call();
        return this.path();
      }
      default:
        return this.fail('an expression');
    }
  }

  private call(): Expr {
    const t = this.next();
    const name = t.value.toLowerCase();
    const fn = FUNCTIONS[name];
    if (!fn) {
      throw new SqlSyntaxError(
        `unknown function ${t.value}(); the functions are ${Object.keys(FUNCTIONS)
          .map((f) => `${f}()`)
          .join(', ')}`,
        this.sql,
        t.pos,
      );
    }
    this.expectOp('(');
    const args: Expr[] = [];
    if (!this.isOp(')')) {
      do args.push(this.expr());
      while (this.acceptOp(','));
    }
    this.expectOp(')', 'a comma or ")" to close the arguments');
    if (args.length < fn.min || args.length > fn.max) {
      const want = fn.min === fn.max ? `${fn.min}` : fn.max === Infinity ? `at least ${fn.min}` : `${fn.min} to ${fn.max}`;
      throw new SqlSyntaxError(`${name}() takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`, this.sql, t.pos);
    }
    return { kind: 'call', name, args, pos: t.pos };
  }

  /** field, a.b.c, a[0].b, "odd name".x */
  private path(): Expr {
    const first = this.next();
    const segments: Array<string | number> = [first.value];
    for (;;) {
      if (this.acceptOp('.')) {
        const p = this.t;
        if (p.kind !== 'word' && p.kind !== 'quoted') this.fail('a field name after "."');
        this.next();
        segments.push(p.value);
      } else if (this.acceptOp('[')) {
        const n = this.t;
        if (n.kind !== 'number' || !/^\d+$/.test(n.value)) this.fail('an array index (0, 1, ...)');
        this.next();
        segments.push(Number(n.value));
        this.expectOp(']');
      } else {
        return { kind: 'path', segments, pos: first.pos };
      }
    }
  }
}

/** The output name of an item without AS: a field's last name, a function's name, else _<position>. */
function defaultName(expr: Expr, index: number): string[] {
  if (expr.kind === 'path') {
    const names = expr.segments.filter((s): s is string => typeof s === 'string');
    return [names[names.length - 1]!];
  }
  if (expr.kind === 'call') return [expr.name];
  return [`_${index + 1}`];
}
