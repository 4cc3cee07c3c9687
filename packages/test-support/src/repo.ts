// Where the built programs of the repository are, for tests that start them as processes.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from this file (packages/test-support/dist/src/). */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** The `baetyl` CLI. */
export const BAETYL = join(REPO, 'packages/master/bin/baetyl.js');
/** The hub's main, as the master starts it natively. */
export const HUB_MAIN = join(REPO, 'packages/hub/dist/src/main.js');
