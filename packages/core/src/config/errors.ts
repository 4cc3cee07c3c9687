/** One problem in one config file: where it is, and what was expected there. */
export interface ConfigProblem {
  /** Dotted path in the document, like `services[1].mounts[0].name`; empty for the whole file. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A config file that cannot be used. Its message names the file, the place in it and what to change. */
export class ConfigError extends Error {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(formatProblems(file, problems));
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems
    .map((p) => {
      const where = p.line ? `${file}:${p.line}:${p.column ?? 1}` : file;
      return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
    })
    .join('\n');
}

/** Turns a path array into the dotted form users read. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}
