// Installs the real tools the tests drive but the product does not depend on: the `claude` and
// `codex` CLIs (hundreds of MB each, so never regular dependencies). Runs before `npm test`
// (the `pretest` script), is idempotent, and says loudly what it could not install: the tests
// that need a missing tool say so again when they skip.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'test-tools');

/** Pinned so a new CLI release cannot change what the tests see. */
export const TOOLS = {
  '@anthropic-ai/claude-code': '2.1.329',
  '@openai/codex': '0.169.0',
};

if (process.env.CODEBENCH_SKIP_TEST_TOOLS) {
  process.stderr.write('install-test-tools: CODEBENCH_SKIP_TEST_TOOLS is set; tests that need the claude/codex CLIs will skip.\n');
  process.exit(0);
}

mkdirSync(cache, { recursive: true });
const manifest = join(cache, 'package.json');
const wanted = JSON.stringify({ name: 'codebench-test-tools', private: true, dependencies: TOOLS }, null, 2);
const installed = existsSync(manifest) && readFileSync(manifest, 'utf8') === wanted && existsSync(join(cache, 'node_modules', '.bin', 'codex'));
if (installed) {
  process.stderr.write('install-test-tools: claude and codex CLIs already installed\n');
  process.exit(0);
}
writeFileSync(manifest, wanted);
process.stderr.write(`install-test-tools: installing ${Object.entries(TOOLS).map(([name, version]) => `${name}@${version}`).join(', ')} into .cache/test-tools …\n`);
try {
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: cache, stdio: 'inherit' });
} catch (error) {
  process.stderr.write(`\n!!! install-test-tools: could not install the CLIs (${error.message}); their tests will SKIP.\n\n`);
}
