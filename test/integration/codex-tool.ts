import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../e2e/harness.js';

/** The pinned codex CLI that `npm test` installs (scripts/install-test-tools.mjs). */
export const CODEX = join(REPO, '.cache', 'test-tools', 'node_modules', '.bin', 'codex');
export const HAVE_CODEX = existsSync(CODEX);
if (!HAVE_CODEX) {
  process.stderr.write(`\n!!! The codex CLI is not installed at ${CODEX}: codex-cli tests will be SKIPPED. Run \`node scripts/install-test-tools.mjs\`.\n\n`);
}

/**
 * A model codex 0.169 has metadata for: only for those does it offer its `apply_patch` tool
 * (unknown models get a warning and no patch tool), so the tests use a real model name.
 */
export const CODEX_MODEL = 'gpt-5.5';
