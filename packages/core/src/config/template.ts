// Baetyl v1 runs every config file through Go's text/template with the environment as data,
// and keeps the raw text when a key is missing. We do the same for `{{.NAME}}` references,
// so configs that relied on it (and timer payload templates that relied on the fallback) still work.

export interface TemplateResult {
  text: string;
  /** Set when the file was left as written because a referenced variable is not set. */
  warning?: string;
}

const REF = /\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}/g;

export function expandEnv(text: string, env: Record<string, string | undefined>): TemplateResult {
  const missing = new Set<string>();
  const out = text.replace(REF, (_all, name: string) => {
    const value = env[name];
    if (value === undefined) {
      missing.add(name);
      return '';
    }
    return value;
  });
  if (missing.size > 0) {
    const names = [...missing].join(', ');
    return {
      text,
      warning: `environment variable ${names} is not set, so no {{.VAR}} in this file was expanded (as Baetyl v1 does); set it or remove the reference`,
    };
  }
  return { text: out };
}
