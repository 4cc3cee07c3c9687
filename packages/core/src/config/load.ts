// The one loader for every YAML file: env templating, then YAML, then an ajv schema that fills
// defaults and converts durations and sizes. Problems come back with the file, line and path.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isPair, isSeq, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, formatPath, formatProblems, type ConfigProblem } from './errors.js';
import { closestKey } from './closest-key.js';
import { expandEnv } from './template.js';
import { parseDuration, parseSize } from './units.js';

/**
 * A JSON schema. Besides the standard keywords, `duration: true` and `size: true` convert the value;
 * `duration: 'or-off'` also takes a negative number ("-1", "-1s"), which becomes 0 (off).
 */
export type Schema = Record<string, unknown>;

export interface LoadOptions {
  /** The variables for `{{.NAME}}` templating; process.env by default. */
  env?: Record<string, string | undefined>;
  /**
   * Receives warnings that do not stop the load, each naming `file:line:column: path`: a key the
   * schema does not know (ignored, as Baetyl v1 ignored it), a bare duration under a millisecond,
   * a template left unexpanded.
   */
  onWarning?: (message: string) => void;
}

// code.optimize off: the validators run once per file, and their optimisation pass was a third of
// a runtime instance's config loading (its cold start waits for it). validateSchema off: checking
// our own schemas against JSON Schema's meta-schema compiled the meta-schema first, in every
// process, 10-35 ms of a runtime instance's cold start; the schemas are fixed and their tests run
// them.
/** Notes the keywords make during one validation (it is synchronous), located afterwards. */
let notes: Array<{ instancePath: string; message: string }> = [];

const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false, verbose: true, validateSchema: false, code: { optimize: false } });

function converter(keyword: string, convert: (v: string | number) => number) {
  ajv.addKeyword({
    keyword,
    modifying: true,
    schemaType: ['boolean', 'string'],
    errors: true,
    validate: function check(
      this: unknown,
      enabled: boolean | 'or-off',
      data: unknown,
      _schema: unknown,
      cxt?: { instancePath: string; parentData: Record<string | number, unknown>; parentDataProperty: string | number },
    ) {
      if (!enabled || !cxt) return true;
      if (enabled === 'or-off' && isNegative(data)) {
        cxt.parentData[cxt.parentDataProperty] = 0;
        return true;
      }
      const self = check as unknown as { errors?: Partial<ErrorObject>[] };
      if (typeof data !== 'string' && typeof data !== 'number') {
        self.errors = [{ keyword, message: `expected a ${keyword}, got ${describe(data)}`, params: {} }];
        return false;
      }
      try {
        const value = convert(data);
        if (keyword === 'duration' && typeof data === 'number' && value > 0 && value < 1) {
          notes.push({
            instancePath: cxt.instancePath,
            message: `${data} is ${data} nanoseconds: a bare number here is nanoseconds (as in Baetyl v1); if you meant seconds, write "${data}s"`,
          });
        }
        cxt.parentData[cxt.parentDataProperty] = value;
        return true;
      } catch (err) {
        self.errors = [{ keyword, message: (err as Error).message, params: {} }];
        return false;
      }
    },
  });
}
const isNegative = (v: unknown): boolean => (typeof v === 'number' && v < 0) || (typeof v === 'string' && /^\s*-\d/.test(v));
converter('duration', parseDuration);
converter('size', parseSize);

const compiled = new WeakMap<Schema, ValidateFunction>();

function validatorFor(schema: Schema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** Reads a config file's text; a file that cannot be read is a ConfigError saying why. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ConfigError(file, [{ path: '', message: `cannot read the config: ${why}` }]);
  }
}

/** Reads, templates, parses and validates one config file. Throws ConfigError. */
export function loadConfig<T>(file: string, schema: Schema, opts: LoadOptions = {}): T {
  return parseConfig<T>(readConfigText(file), file, schema, opts);
}

/** Parses YAML text as if read from `file` (used for messages). Throws ConfigError. */
export function parseConfig<T>(text: string, file: string, schema: Schema, opts: LoadOptions = {}): T {
  const data = parseYaml(text, file, opts);
  return validateConfig<T>(data, file, schema, opts);
}

export interface ParsedYaml {
  value: unknown;
  doc: Document;
  lines: LineCounter;
  /** The warning sink given to parseYaml; validateConfig reports unknown keys to it. */
  onWarning?: (message: string) => void;
}

/** Templating and YAML only: for callers that pick a schema by looking at the data first. */
export function parseYaml(text: string, file: string, opts: LoadOptions = {}): ParsedYaml {
  const templated = expandEnv(text, opts.env ?? process.env);
  if (templated.warning) opts.onWarning?.(`${file}: ${templated.warning}`);
  const lines = new LineCounter();
  const doc = parseDocument(templated.text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        const problem: ConfigProblem = { path: '', message: `invalid YAML: ${e.message.split('\n')[0]}` };
        if (pos) {
          problem.line = pos.line;
          problem.column = pos.col;
        }
        return problem;
      }),
    );
  }
  // YAML aliases share one object; validation fills and converts in place, so unshare them.
  const value = plainCopy(doc);
  return opts.onWarning ? { value, doc, lines, onWarning: opts.onWarning } : { value, doc, lines };
}

const plainCopy = (doc: Document): unknown => JSON.parse(JSON.stringify(doc.toJS() ?? {})) as unknown;

/**
 * Validates parsed data against a schema, filling defaults and converting units in place.
 * A key the schema does not know is a warning, and is dropped: Baetyl v1 ignored such keys, so a
 * v1 config with one still loads. Every other problem (a wrong type, a bad value) is an error.
 */
export function validateConfig<T>(parsed: ParsedYaml, file: string, schema: Schema, opts: LoadOptions = {}): T {
  const onWarning = opts.onWarning ?? parsed.onWarning;
  const validate = validatorFor(schema);
  const unknown: ConfigProblem[] = [];
  const dropped: Array<Array<string | number>> = [];
  let data = parsed.value;
  // Dropping a key can decide an anyOf, so validation runs again without it, on a fresh copy
  // (the first run converted durations in place).
  for (;;) {
    notes = [];
    const ok = validate(data);
    const errors = ok ? [] : (validate.errors ?? []);
    const fresh = errors.filter((e) => e.keyword === 'additionalProperties' && !dropped.some((k) => k.join('/') === keyPathOf(e).join('/')));
    if (fresh.length === 0) {
      parsed.value = data;
      const warnings = [...dedupe(unknown), ...notes.map((n) => problemAt(parsed, pathOf(n.instancePath), n.message))];
      for (const w of warnings) onWarning?.(formatProblems(file, [w]));
      if (ok) return data as T;
      throw new ConfigError(file, dedupe(errors.map((e) => toProblem(e, parsed))));
    }
    for (const e of fresh) {
      unknown.push(toProblem(e, parsed));
      dropped.push(keyPathOf(e));
    }
    data = plainCopy(parsed.doc);
    for (const keyPath of dropped) dropKey(data, keyPath);
  }
}

const keyPathOf = (e: ErrorObject): Array<string | number> => [
  ...pathOf(e.instancePath),
  String((e.params as { additionalProperty: string }).additionalProperty),
];

function dropKey(data: unknown, keyPath: Array<string | number>): void {
  let node = data as Record<string | number, unknown> | undefined;
  for (const part of keyPath.slice(0, -1)) node = node?.[part] as Record<string | number, unknown> | undefined;
  if (node && typeof node === 'object') delete node[keyPath[keyPath.length - 1]!];
}

function pathOf(instancePath: string): Array<string | number> {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function toProblem(e: ErrorObject, parsed: ParsedYaml): ConfigProblem {
  const path = pathOf(e.instancePath);
  let message = e.message ?? 'is invalid';
  let keyOf: string | undefined;
  const parentSchema = e.parentSchema as Schema | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((parentSchema?.properties as Schema | undefined) ?? {});
      const near = closestKey(prop, known);
      message =
        `unknown key "${prop}" is ignored, as Baetyl v1 ignored it` +
        (near ? `; did you mean "${near}"?` : known.length ? `; the keys here are: ${known.join(', ')}` : '; nothing else is allowed here');
      keyOf = prop;
      break;
    }
    case 'required': {
      const prop = String((e.params as { missingProperty: string }).missingProperty);
      path.push(prop);
      message = 'is required';
      break;
    }
    case 'type':
      message = `expected ${String((e.params as { type: string }).type).replace(',', ' or ')}, got ${describe(e.data)}`;
      break;
    case 'enum':
      message = `expected one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(e.data)}`;
      break;
    case 'pattern': {
      const hint = parentSchema?.['x-hint'];
      message = `${describe(e.data)} is not allowed here${hint ? `: ${String(hint)}` : ` (must match ${String((e.params as { pattern: string }).pattern)})`}`;
      break;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
      message = `${e.message}, got ${describe(e.data)}`;
      break;
    default:
      break;
  }
  const problem: ConfigProblem = { path: formatPath(keyOf ? [...path, keyOf] : path), message };
  const pos = locate(parsed, path, keyOf);
  if (pos) {
    problem.line = pos.line;
    problem.column = pos.col;
  }
  return problem;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return JSON.stringify(v);
  return `${typeof v} ${String(v)}`;
}

function locate(parsed: ParsedYaml, path: Array<string | number>, key?: string) {
  // Walk as far into the document as the path exists; report the deepest node found.
  let node: unknown = parsed.doc.contents;
  for (const part of path) {
    const next = isMap(node) || isSeq(node) ? node.get(part, true) : undefined;
    if (next === undefined || next === null) break;
    node = next;
  }
  if (key && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
    if (pair && isScalar(pair.key) && pair.key.range) return parsed.lines.linePos(pair.key.range[0]);
  }
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? parsed.lines.linePos(range[0]) : undefined;
}

/** A problem found after validation (a cross-field check), located in the file like schema errors. */
export function problemAt(parsed: ParsedYaml, path: Array<string | number>, message: string): ConfigProblem {
  const problem: ConfigProblem = { path: formatPath(path), message };
  const pos = locate(parsed, path);
  if (pos) {
    problem.line = pos.line;
    problem.column = pos.col;
  }
  return problem;
}
