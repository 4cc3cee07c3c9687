// Additions to a copy of deploy/example/native: more runtime services in application.yml, and
// more rules and functions in the function manager's service.yml (YAML list items, indented as
// those files indent theirs).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExampleAdditions {
  /** application.yml `services:` items and `volumes:` items. */
  services: string;
  volumes: string;
  /** The function manager's `rules:` and `functions:` items. */
  rules: string;
  functions: string;
}

export function extendExample(dir: string, add: ExampleAdditions): void {
  const edit = (file: string, change: (text: string) => string) => writeFileSync(join(dir, file), change(readFileSync(join(dir, file), 'utf8')));
  edit('var/db/baetyl/application.yml', (t) => t.replace('volumes:\n', `${add.services}volumes:\n${add.volumes}`));
  edit('var/db/baetyl/function-manager-conf/service.yml', (t) =>
    t.replace('rules:\n', `rules:\n${add.rules}`).replace('functions:\n', `functions:\n${add.functions}`),
  );
}
