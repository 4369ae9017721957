// Installs the real tools the tests drive but the product does not depend on: the `claude` and
// `codex` CLIs (hundreds of MB each, so never regular dependencies). Runs before `npm test`
// (the `pretest` script), is idempotent, and says loudly what it could not install: the tests
// that need a missing tool say so again when they skip.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache', 'test-tools');
// Helix 25.01 (+ tmux) for test/clients/helix.test.ts, before any early exit below; loud, never fatal.
try { execFileSync('bash', [join(root, 'scripts', 'fetch-helix.sh')], { stdio: ['ignore', 'ignore', 'inherit'] }); } catch (error) { process.stderr.write(`\n!!! install-test-tools: could not fetch Helix (${error.message}); the real-Helix test will SKIP.\n\n`); }
// Neovim 0.10 (+ luacheck, StyLua) for test/clients/nvim*.test.ts; loud, never fatal.
try { execFileSync('bash', [join(root, 'scripts', 'fetch-neovim.sh')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 900_000 }); } catch (error) { process.stderr.write(`\n!!! install-test-tools: could not fetch Neovim (${error.message}); the Neovim plugin tests (test/clients/nvim.test.ts) will SKIP.\n\n`); }

/** Pinned so a new CLI release cannot change what the tests see. */
export const TOOLS = {
  '@anthropic-ai/claude-code': '2.1.329',
  '@openai/codex': '0.169.0',
};

installKeychainPackages();
installPostgres();

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

/**
 * The keychain tests (test/integration/keychain.test.ts) need a real Secret Service
 * (gnome-keyring in a dbus session) and the kernel keyring (keyctl). Debian/Ubuntu only; we run
 * as root here and in CI. Loud but non-fatal: those tests skip loudly too when the tools are missing.
 */
function installKeychainPackages() {
  if (process.platform !== 'linux' || process.env.CODEBENCH_SKIP_TEST_TOOLS) return;
  const has = (command) => {
    try {
      execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const needed = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool', 'keyctl'];
  if (needed.every(has)) return;
  if (!has('apt-get')) {
    process.stderr.write(`\n!!! install-test-tools: ${needed.filter((c) => !has(c)).join(', ')} missing and no apt-get; the keychain tests will SKIP.\n\n`);
    return;
  }
  const packages = ['gnome-keyring', 'libsecret-tools', 'dbus', 'keyutils'];
  const install = () => execFileSync('apt-get', ['install', '-y', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  process.stderr.write(`install-test-tools: installing ${packages.join(' ')} for the keychain tests …\n`);
  try {
    install();
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: 'inherit' });
      install();
    } catch (error) {
      process.stderr.write(`\n!!! install-test-tools: could not install ${packages.join(' ')} (${error.message}); the keychain tests will SKIP.\n\n`);
    }
  }
}

/**
 * The team-sync tests (test/sync/) start their own throw-away PostgreSQL cluster from the server
 * binaries (initdb, postgres) under /usr/lib/postgresql/<version>/bin; nothing is started here.
 * Debian/Ubuntu only. Loud but non-fatal here: those tests fail loudly (never skip) without it.
 */
function installPostgres() {
  if (process.platform !== 'linux' || process.env.CODEBENCH_SKIP_TEST_TOOLS) return;
  const root = '/usr/lib/postgresql';
  const present = () => existsSync(root) && readdirSync(root).some((version) => existsSync(join(root, version, 'bin', 'initdb')));
  if (present()) return;
  const hasAptGet = (() => {
    try {
      execFileSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!hasAptGet) {
    process.stderr.write(`\n!!! install-test-tools: no PostgreSQL server under ${root}/*/bin and no apt-get; the team-sync tests (test/sync) will FAIL: install PostgreSQL 13+ (initdb, postgres, psql, pg_dump).\n\n`);
    return;
  }
  // postgresql-common would otherwise create and start a "main" cluster; the tests start their own.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql', 'postgresql-client'], { stdio: 'inherit', env });
  process.stderr.write('install-test-tools: installing postgresql for the team-sync tests …\n');
  try {
    mkdirSync('/etc/postgresql-common/createcluster.d', { recursive: true });
    writeFileSync('/etc/postgresql-common/createcluster.d/codebench-tests.conf', 'create_main_cluster = false\n');
  } catch {
    // Not fatal: at worst Debian also creates its default cluster, which the tests never touch.
  }
  try {
    install();
  } catch {
    try {
      execFileSync('apt-get', ['update'], { stdio: 'inherit' });
      install();
    } catch (error) {
      process.stderr.write(`\n!!! install-test-tools: could not install postgresql (${error.message}); the team-sync tests (test/sync) will FAIL.\n\n`);
      return;
    }
  }
  if (!present()) process.stderr.write(`\n!!! install-test-tools: postgresql installed but no initdb under ${root}/*/bin; the team-sync tests (test/sync) will FAIL.\n\n`);
}
