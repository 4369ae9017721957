// Lint and format of the Neovim plugin's Lua: luacheck (Debian's lua-check) and StyLua's
// WebAssembly build (npm), both fetched into .cache/nvim by scripts/fetch-neovim.sh. Missing
// tools skip LOUDLY; CI fetches them so nothing skips there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../e2e/harness.js';

const PLUGIN = join(REPO, 'clients', 'nvim');
const LUACHECK = join(REPO, '.cache', 'nvim', 'bin', 'luacheck');
const STYLUA = join(REPO, '.cache', 'nvim', 'stylua', 'node_modules', '@johnnymorganz', 'stylua');

const HAVE_LUACHECK = existsSync(LUACHECK) && spawnSync(LUACHECK, ['--version']).status === 0;
const HAVE_STYLUA = existsSync(STYLUA);
if (!HAVE_LUACHECK) process.stderr.write(`\n!!! luacheck is not available at ${LUACHECK}: the Lua lint test will be SKIPPED. Run scripts/fetch-neovim.sh.\n\n`);
if (!HAVE_STYLUA) process.stderr.write(`\n!!! StyLua is not available in ${STYLUA}: the Lua format test will be SKIPPED. Run scripts/fetch-neovim.sh.\n\n`);

describe('Neovim plugin Lua', () => {
  it.skipIf(!HAVE_LUACHECK)('passes luacheck with no warnings (clients/nvim/.luacheckrc)', () => {
    const result = spawnSync(LUACHECK, ['--no-color', '--formatter', 'plain', '.'], { cwd: PLUGIN, encoding: 'utf8', timeout: 60_000 });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(!HAVE_STYLUA)('is formatted with StyLua (clients/nvim/stylua.toml)', () => {
    const result = spawnSync(process.execPath, [join(REPO, 'scripts', 'lua-style.mjs'), '--check'], { encoding: 'utf8', timeout: 60_000 });
    expect(result.stdout + result.stderr).toContain('all files formatted');
    expect(result.status).toBe(0);
  });
});
