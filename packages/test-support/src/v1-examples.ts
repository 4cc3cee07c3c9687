// Where Baetyl v1's own example apps are (config files only, kept beside the repository in
// shared/reference, not in it). A test skips when they are missing, unless CI requires them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './repo.js';

/** The corpus folder (holding `stable-1/` and `1.0.0/`), or undefined when this machine has none. */
export function v1Examples(): string | undefined {
  const candidates = [process.env.BAETYL_V1_EXAMPLES, join(REPO, '../shared/reference/baetyl-v1-examples'), '/work/shared/reference/baetyl-v1-examples'];
  const found = candidates.find((c): c is string => !!c && existsSync(join(c, 'stable-1')));
  if (!found && process.env.BAETYL_REQUIRE_V1_EXAMPLES === '1') {
    throw new Error(`Baetyl v1's example apps are required (BAETYL_REQUIRE_V1_EXAMPLES=1) but none of ${candidates.filter(Boolean).join(', ')} holds them`);
  }
  if (!found) console.log('# skipped: the Baetyl v1 examples corpus is not on this machine; set BAETYL_V1_EXAMPLES to its folder');
  return found;
}
