import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../e2e/harness.js';

/** The pinned claude CLI that `npm test` installs (scripts/install-test-tools.mjs). */
export const CLAUDE = join(REPO, '.cache', 'test-tools', 'node_modules', '.bin', 'claude');
export const HAVE_CLAUDE = existsSync(CLAUDE);
if (!HAVE_CLAUDE) {
  process.stderr.write(`\n!!! The claude CLI is not installed at ${CLAUDE}: claude-cli tests will be SKIPPED. Run \`node scripts/install-test-tools.mjs\`.\n\n`);
}
