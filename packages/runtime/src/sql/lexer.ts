// Tokens of the SQL runtime's language: SELECT <list> [WHERE <condition>], keywords in any case.

export type TokenKind = 'word' | 'quoted' | 'number' | 'string' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** word: as written; quoted: the name inside the quotes; string: the unescaped text; op: the operator. */
  value: string;
  /** Offset of the first character in the SQL text. */
  pos: number;
  /** Uppercased word, for keyword checks. */
  upper: string;
}

export const KEYWORDS = new Set(['SELECT', 'FROM', 'WHERE', 'AS', 'AND', 'OR', 'NOT', 'IS', 'NULL', 'IN', 'LIKE', 'ESCAPE', 'BETWEEN', 'TRUE', 'FALSE']);

/** A problem in the SQL text, with where it is. */
export class SqlSyntaxError extends Error {
  override name = 'SqlSyntaxError';
  readonly line: number;
  readonly column: number;

  constructor(
    readonly reason: string,
    readonly sql: string,
    readonly pos: number,
  ) {
    const { line, column } = lineColumn(sql, pos);
    super(`SQL syntax error at line ${line}, column ${column}: ${reason}\n${pointer(sql, pos)}`);
    this.line = line;
    this.column = column;
  }
}

export function lineColumn(sql: string, pos: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < pos && i < sql.length; i++) {
    if (sql[i] === '\n') {
      line++;
      start = i + 1;
    }
  }
  return { line, column: pos - start + 1 };
}

/** The line of the SQL holding `pos`, and a caret under it. */
export function pointer(sql: string, pos: number): string {
  const start = sql.lastIndexOf('\n', pos - 1) + 1;
  let end = sql.indexOf('\n', pos);
  if (end < 0) end = sql.length;
  return `  ${sql.slice(start, end)}\n  ${' '.repeat(Math.max(0, pos - start))}^`;
}

const OPERATORS = ['<=', '>=', '<>', '!=', '==', '||', '*', ',', '.', '(', ')', '+', '-', '/', '%', '=', '<', '>', '[', ']', ';'];

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, value: string, pos: number) => tokens.push({ kind, value, pos, upper: kind === 'word' ? value.toUpperCase() : '' });
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // -- comment to the end of the line
    if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (/[\p{L}_]/u.test(c)) {
      i++;
      while (i < sql.length && /[\p{L}\p{N}_$]/u.test(sql[i]!)) i++;
      push('word', sql.slice(start, i), start);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(sql.slice(i))!;
      i += m[0].length;
      if (/[\p{L}_]/u.test(sql[i] ?? '')) throw new SqlSyntaxError(`a number cannot run into a name ("${sql.slice(start, i + 1)}")`, sql, start);
      push('number', m[0], start);
      continue;
    }
    if (c === "'") {
      // 'text', with '' for a quote inside
      let text = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new SqlSyntaxError('this string is never closed: add a closing single quote', sql, start);
        if (sql[i] === "'") {
          if (sql[i + 1] === "'") {
            text += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += sql[i];
        i++;
      }
      push('string', text, start);
      continue;
    }
    if (c === '"' || c === '`') {
      // "field name" or `field name`: a name that is not a plain word
      const close = sql.indexOf(c, i + 1);
      if (close < 0) throw new SqlSyntaxError(`this quoted name is never closed: add a closing ${c}`, sql, start);
      const name = sql.slice(i + 1, close);
      if (name === '') throw new SqlSyntaxError('a quoted name cannot be empty', sql, start);
      push('quoted', name, start);
      i = close + 1;
      continue;
    }
    const op = OPERATORS.find((o) => sql.startsWith(o, i));
    if (op) {
      push('op', op === '==' ? '=' : op, start);
      i += op.length;
      continue;
    }
    throw new SqlSyntaxError(`unexpected character ${JSON.stringify(c)}`, sql, start);
  }
  tokens.push({ kind: 'eof', value: '', pos: sql.length, upper: '' });
  return tokens;
}

/** How a token reads in an error message. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the SQL';
    case 'word':
      return KEYWORDS.has(t.upper) ? `the keyword ${t.upper}` : `the name "${t.value}"`;
    case 'quoted':
      return `the quoted name "${t.value}"`;
    case 'number':
      return `the number ${t.value}`;
    case 'string':
      return `the string '${t.value}'`;
    case 'op':
      return `"${t.value}"`;
  }
}
