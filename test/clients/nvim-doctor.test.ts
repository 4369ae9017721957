// `codebench doctor`'s Neovim advice matches the Neovim on PATH: vim.lsp.config/vim.lsp.enable
// exist from 0.11 on, so a 0.10 user is told to use the plugin (packadd + setup) instead.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEditors } from '../../server/src/cli/doctor-checks.js';

/** A sandbox with an `nvim` on PATH that reports `version`, and an empty Neovim config. */
function sandboxWith(version: string): NodeJS.ProcessEnv {
  const root = mkdtempSync(join(tmpdir(), 'codebench-nvim-doctor-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  mkdirSync(join(root, 'config', 'nvim'), { recursive: true });
  writeFileSync(join(bin, 'nvim'), `#!/bin/sh\necho "NVIM ${version}"\necho "Build type: Release"\n`, { mode: 0o755 });
  return { PATH: `${bin}:/usr/bin:/bin`, HOME: root, XDG_CONFIG_HOME: join(root, 'config') };
}

async function neovimCheck(version: string) {
  const checks = await checkEditors(sandboxWith(version));
  return checks.find((check) => check.name === 'neovim');
}

describe('codebench doctor: Neovim advice per version', () => {
  it('Neovim 0.10 gets 0.10 instructions (the plugin with packadd and setup), not vim.lsp.config', async () => {
    const check = await neovimCheck('v0.10.4');
    expect(check?.status).toBe('warning');
    expect(check?.message).toContain('NVIM v0.10.4');
    expect(check?.fix).toContain("vim.cmd.packadd('codebench')");
    expect(check?.fix).toContain("require('codebench').setup({})");
    expect(check?.fix).not.toMatch(/^add vim\.lsp\.config/);
    expect(check?.fix).toContain('vim.lsp.config needs Neovim 0.11');
  });

  it('Neovim 0.11 gets vim.lsp.config and vim.lsp.enable', async () => {
    const check = await neovimCheck('v0.11.2');
    expect(check?.status).toBe('warning');
    expect(check?.fix).toBe("add vim.lsp.config('codebench', { cmd = { 'codebench', 'lsp' } }) and vim.lsp.enable('codebench')");
  });
});
