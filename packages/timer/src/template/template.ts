// The payload template of v1's timer: Go text/template text whose actions call the methods of its
// two values, .Time (Now, NowUnix, NowUnixNano) and .Rand (a math/rand.Rand, plus Float64n).
// Only that part of text/template is read here: text, {{.X.Method args}}, {{/* comments */}} and
// the {{- -}} trim markers. Anything else is refused when the config loads, with what to write
// instead, where v1 failed at its first tick.
import { randomBytes, randomInt } from 'node:crypto';
import { goFloat, goTimeString } from './go-format.js';
import type { Clock } from './clock.js';

/** A template that cannot be used; the message says which action and what to write. */
export class TemplateError extends Error {}

export interface PayloadTemplate {
  /** The payload of one tick. */
  render(): string;
}

type ArgKind = 'int' | 'float';
type Arg = bigint | number;

interface Method {
  args: ArgKind[];
  /** Checks arguments once, when the template is compiled (Go panicked at the tick instead). */
  check?: (args: Arg[]) => string | undefined;
  call: (args: Arg[], env: Env) => string;
}

interface Env {
  clock: Clock;
  random: Random;
}

export interface Random {
  /** 63 random bits. */
  int63(): bigint;
  /** Uniform in [0, n), n > 0. */
  below(n: bigint): bigint;
  /** Uniform in [0, 1), 53 bits as Go's Float64. */
  float64(): number;
}

const TWO_63 = 1n << 63n;

export const cryptoRandom: Random = {
  int63: () => randomBytes(8).readBigUInt64BE() >> 1n,
  below(n) {
    if (n <= 2n ** 48n) return BigInt(randomInt(Number(n)));
    const limit = (TWO_63 / n) * n;
    for (;;) {
      const r = cryptoRandom.int63();
      if (r < limit) return r % n;
    }
  },
  float64: () => Number(cryptoRandom.int63() >> 10n) / 2 ** 53,
};

const positive = (name: string) => (args: Arg[]) =>
  (args[0] as bigint) > 0n ? undefined : `the argument of .Rand.${name} must be more than 0 (Go: "invalid argument to ${name}")`;
const maxInt = (bits: number, name: string) => (args: Arg[]) =>
  positive(name)(args) ?? ((args[0] as bigint) < 1n << BigInt(bits - 1) ? undefined : `the argument of .Rand.${name} must be less than 2^${bits - 1}`);

const METHODS: Record<'Time' | 'Rand', Record<string, Method>> = {
  Time: {
    Now: { args: [], call: (_a, env) => goTimeString(env.clock.now()) },
    NowUnix: { args: [], call: (_a, env) => String(env.clock.now().unixNano / 1_000_000_000n) },
    NowUnixNano: { args: [], call: (_a, env) => String(env.clock.now().unixNano) },
  },
  Rand: {
    Int: { args: [], call: (_a, env) => String(env.random.int63()) },
    Int63: { args: [], call: (_a, env) => String(env.random.int63()) },
    Int31: { args: [], call: (_a, env) => String(env.random.int63() >> 32n) },
    Uint32: { args: [], call: (_a, env) => String(env.random.int63() >> 31n) },
    Intn: { args: ['int'], check: maxInt(64, 'Intn'), call: (a, env) => String(env.random.below(a[0] as bigint)) },
    Int63n: { args: ['int'], check: maxInt(64, 'Int63n'), call: (a, env) => String(env.random.below(a[0] as bigint)) },
    Int31n: { args: ['int'], check: maxInt(32, 'Int31n'), call: (a, env) => String(env.random.below(a[0] as bigint)) },
    Float64: { args: [], call: (_a, env) => goFloat(env.random.float64()) },
    Float64n: { args: ['float'], call: (a, env) => goFloat((a[0] as number) * env.random.float64()) },
  },
};

/** What the docs and messages list. */
export const TEMPLATE_FUNCTIONS = Object.entries(METHODS).flatMap(([value, methods]) =>
  Object.entries(methods).map(([name, m]) => `.${value}.${name}${m.args.map((k) => (k === 'int' ? ' N' : ' X')).join('')}`),
);

const SPACE = /[ \t\r\n]/;

/** Parses a payload template; throws TemplateError naming the action at fault. */
export function compileTemplate(text: string, env: Env): PayloadTemplate {
  const parts: Array<string | (() => string)> = [];
  let pos = 0;
  let pendingTrim = false;
  const pushText = (s: string) => {
    const t = pendingTrim ? s.replace(/^[ \t\r\n]+/, '') : s;
    pendingTrim = false;
    if (t) parts.push(t);
  };
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open < 0) {
      pushText(text.slice(pos));
      break;
    }
    let body = open + 2;
    let before = text.slice(pos, open);
    // "{{- " trims the space before the action (the dash must be followed by a space).
    if (text[body] === '-' && SPACE.test(text[body + 1] ?? '')) {
      before = before.replace(/[ \t\r\n]+$/, '');
      body += 1;
    }
    pushText(before);
    const close = findClose(text, body);
    if (close < 0) throw new TemplateError(`unclosed action at character ${open + 1} ("${text.slice(open, open + 20)}…"): end it with }}`);
    let end = close;
    // " -}}" trims the space after it.
    if (text[close - 1] === '-' && SPACE.test(text[close - 2] ?? '')) {
      end = close - 1;
      pendingTrim = true;
    }
    const action = text.slice(body, end).trim();
    const shown = text.slice(open, close + 2);
    pos = close + 2;
    if (action.startsWith('/*')) {
      if (!action.endsWith('*/')) throw new TemplateError(`${shown}: a comment must end with */ right before }}`);
      continue;
    }
    parts.push(compileAction(action, shown, env));
  }
  return { render: () => parts.map((p) => (typeof p === 'string' ? p : p())).join('') };
}

/** The `}}` ending an action, skipping over quoted strings and comments in it. */
function findClose(text: string, from: number): number {
  const comment = /^\s*\/\*/.exec(text.slice(from, from + 64));
  if (comment) {
    const end = text.indexOf('*/', from + comment[0].length);
    if (end < 0) return -1;
    return text.indexOf('}}', end + 2);
  }
  for (let i = from; i < text.length - 1; i++) {
    const c = text[i];
    if (c === '"' || c === '`') {
      const q = text.indexOf(c, i + 1);
      if (q < 0) return -1;
      i = q;
    } else if (c === '}' && text[i + 1] === '}') return i;
  }
  return -1;
}

const USE = `the timer's payload template knows ${TEMPLATE_FUNCTIONS.map((f) => `{{${f}}}`).join(', ')}`;

function compileAction(action: string, shown: string, env: Env): () => string {
  const words = action.split(/\s+/).filter(Boolean);
  const ref = /^\.(Time|Rand)\.([A-Za-z0-9_]+)$/.exec(words[0] ?? '');
  if (!ref) {
    const field = /^\.(Time|Rand)$/.test(words[0] ?? '') ? `${words[0]} alone is not a value` : `"${action}" is not supported`;
    throw new TemplateError(`${shown}: ${field}; ${USE}`);
  }
  const value = ref[1] as 'Time' | 'Rand';
  const name = ref[2]!;
  const method = METHODS[value][name];
  if (!method) {
    throw new TemplateError(
      `${shown}: .${value} has no method ${name}; use one of ${Object.keys(METHODS[value])
        .map((m) => `.${value}.${m}`)
        .join(', ')}`,
    );
  }
  const rawArgs = words.slice(1);
  if (rawArgs.length !== method.args.length) {
    const want = method.args.length === 0 ? 'no argument' : `${method.args.length} number argument`;
    throw new TemplateError(`${shown}: .${value}.${name} takes ${want}, got ${rawArgs.length}${method.args.length ? `, like {{.${value}.${name} 10}}` : ''}`);
  }
  const args = rawArgs.map((raw, i) => parseArg(raw, method.args[i]!, shown, `.${value}.${name}`));
  const problem = method.check?.(args);
  if (problem) throw new TemplateError(`${shown}: ${problem}`);
  return () => method.call(args, env);
}

function parseArg(raw: string, kind: ArgKind, shown: string, fn: string): Arg {
  const text = raw.replace(/_/g, '');
  const asFloat = Number(text);
  if (!/^[+-]?(0[xX][0-9a-fA-F]+|\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(text) || !Number.isFinite(asFloat)) {
    throw new TemplateError(`${shown}: the argument of ${fn} must be a number, got "${raw}"`);
  }
  if (kind === 'float') return asFloat;
  // Go takes an integral constant (10, 1e3, 0x10) for an int parameter, not 2.5.
  if (/^[+-]?(0[xX][0-9a-fA-F]+|\d+)$/.test(text)) {
    const neg = text.startsWith('-');
    const n = BigInt(text.replace(/^[+-]/, ''));
    return neg ? -n : n;
  }
  if (Number.isInteger(asFloat) && Math.abs(asFloat) < 2 ** 63) return BigInt(asFloat);
  throw new TemplateError(`${shown}: the argument of ${fn} must be a whole number, got ${raw}`);
}
