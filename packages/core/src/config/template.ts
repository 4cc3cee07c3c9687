// Baetyl v1 runs every config file through Go's text/template, with the environment as a map of
// strings and missingkey=error; when the template does not parse or execute, it uses the raw text.
// We evaluate what such a template can do with a map of strings - `{{.NAME}}`, with Go's trim
// markers (`{{- ` and ` -}}`) and `{{/* comments */}}` - and, as v1, keep the whole file as written
// when anything else is in it: a missing variable, `{{.Time.Now}}` (the timer's payload relies on
// that fallback), a function call, or an unclosed `{{`.

export interface TemplateResult {
  text: string;
  /** Set when `{{.VAR}}` references were left unexpanded because the file fell back to its raw text. */
  warning?: string;
}

const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const SPACE = /[ \t\r\n]/;

type Piece = { text: string } | { ref: string; trimLeft: boolean; trimRight: boolean } | { comment: true; trimLeft: boolean; trimRight: boolean };

interface Scan {
  pieces: Piece[];
  /** Why Go's template would fail here, for the first action we do not evaluate. */
  unsupported?: string;
}

function scan(text: string): Scan {
  const pieces: Piece[] = [];
  let pos = 0;
  let unsupported: string | undefined;
  while (pos < text.length) {
    const open = text.indexOf('{{', pos);
    if (open < 0) break;
    pieces.push({ text: text.slice(pos, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) {
      unsupported ??= `"${text.slice(open, open + 20).split('\n')[0]}" is never closed with }}`;
      pieces.push({ text: text.slice(open) });
      pos = text.length;
      break;
    }
    let inner = text.slice(open + 2, close);
    // Go's trim markers need a space next to the dash: "{{- x" and "x -}}" (but "{{-3}}" is a number).
    const trimLeft = inner.length >= 2 && inner[0] === '-' && SPACE.test(inner[1]!);
    const trimRight = inner.length >= 2 && inner[inner.length - 1] === '-' && SPACE.test(inner[inner.length - 2]!);
    if (trimLeft) inner = inner.slice(1);
    if (trimRight) inner = inner.slice(0, -1);
    const body = inner.trim();
    const field = FIELD.exec(body);
    if (field) pieces.push({ ref: field[1]!, trimLeft, trimRight });
    else if (body.startsWith('/*') && body.endsWith('*/') && body.length >= 4) pieces.push({ comment: true, trimLeft, trimRight });
    else {
      unsupported ??= `{{${text.slice(open + 2, close)}}} is not an environment variable`;
      pieces.push({ text: text.slice(open, close + 2) });
    }
    pos = close + 2;
  }
  if (pos < text.length) pieces.push({ text: text.slice(pos) });
  return unsupported ? { pieces, unsupported } : { pieces };
}

export function expandEnv(text: string, env: Record<string, string | undefined>): TemplateResult {
  if (!text.includes('{{')) return { text };
  const { pieces, unsupported } = scan(text);
  const refs = pieces.flatMap((p) => ('ref' in p ? [p.ref] : []));
  const missing = [...new Set(refs.filter((name) => env[name] === undefined))];
  if (unsupported || missing.length > 0) {
    if (refs.length === 0) return { text };
    const names = [...new Set(refs)].map((n) => `{{.${n}}}`).join(', ');
    const why = missing.length > 0 ? `environment variable ${missing.join(', ')} is not set` : `the file also has ${unsupported}`;
    return {
      text,
      warning: `${why}, so ${names} in this file ${refs.length > 1 ? 'were' : 'was'} not expanded: Baetyl v1 keeps such a file as written; ${missing.length > 0 ? 'set it or remove the reference' : 'expand the variable yourself there'}`,
    };
  }
  // Trim markers eat the whitespace of the text next to them (not of an expanded value).
  const texts = pieces.map((p) => ('text' in p ? p.text : undefined));
  pieces.forEach((p, i) => {
    if ('text' in p) return;
    if (p.trimLeft && texts[i - 1] !== undefined) texts[i - 1] = texts[i - 1]!.replace(/[ \t\r\n]+$/, '');
    if (p.trimRight && texts[i + 1] !== undefined) texts[i + 1] = texts[i + 1]!.replace(/^[ \t\r\n]+/, '');
  });
  const out = pieces.map((p, i) => ('text' in p ? texts[i]! : 'ref' in p ? env[p.ref]! : ''));
  return { text: out.join('') };
}
