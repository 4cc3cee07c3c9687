// The repository's eslint config, as `make lint` runs it, on a package's index: `export *` and
// `export type *` fail, so that a boundary says what it gives other packages; named re-exports
// (values and types) pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const RULE = 'no-restricted-syntax';

/** The messages of RULE for `text`, linted as if it were the index of @baetyl/core. */
async function boundaryProblems(text: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPO });
  const [result] = await eslint.lintText(text, { filePath: `${REPO}packages/core/src/index.ts` });
  assert.ok(result, 'eslint returned a result for the text');
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => `${m.line}: ${m.message}`);
}

test('export * and export type * at a package boundary fail lint, naming what to write instead', async () => {
  const problems = await boundaryProblems(
    "export * from './config/errors.js';\nexport type * from './api/client.js';\nexport * as log from './log/logger.js';\n",
  );
  assert.equal(problems.length, 3, problems.join('\n'));
  for (const [i, p] of problems.entries()) {
    assert.match(p, new RegExp(`^${i + 1}: `));
    assert.match(p, /Name each export \(export \{ a, type B \} from \.\.\.\)/);
  }
});

test('named exports and named type exports pass', async () => {
  const problems = await boundaryProblems(
    "export { ConfigError, type ConfigProblem } from './config/errors.js';\nexport type { Inspect } from './api/client.js';\n",
  );
  assert.deepEqual(problems, []);
});
