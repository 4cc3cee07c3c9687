// The parsed form of a SQL function: what to select, and the condition.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithOp = '+' | '-' | '*' | '/' | '%';

/** Every node remembers where it starts in the SQL text, for runtime error messages. */
export type Expr =
  | { kind: 'literal'; value: JsonValue; pos: number }
  | { kind: 'path'; segments: Array<string | number>; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number }
  | { kind: 'neg'; expr: Expr; pos: number }
  | { kind: 'not'; expr: Expr; pos: number }
  | { kind: 'arith'; op: ArithOp; left: Expr; right: Expr; pos: number }
  | { kind: 'concat'; left: Expr; right: Expr; pos: number }
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr; pos: number }
  | { kind: 'and' | 'or'; left: Expr; right: Expr; pos: number }
  | { kind: 'isnull'; expr: Expr; negated: boolean; pos: number }
  | { kind: 'in'; expr: Expr; list: Expr[]; negated: boolean; pos: number }
  | { kind: 'like'; expr: Expr; pattern: Expr; escape?: Expr; negated: boolean; pos: number }
  | { kind: 'between'; expr: Expr; low: Expr; high: Expr; negated: boolean; pos: number };

export type SelectItem =
  | { kind: 'star'; pos: number }
  /** `name` is the output key path: the alias split at dots, or a name derived from the expression. */
  | { kind: 'expr'; expr: Expr; name: string[]; pos: number };

export interface Query {
  sql: string;
  items: SelectItem[];
  where?: Expr;
}
