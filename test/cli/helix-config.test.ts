import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCliSandbox, runInSandbox, type CliSandbox } from './run-cli.js';

/** `codebench helix-config` run as the built binary on sample user files. */
const ENTRY = '{ name = "codebench", only-features = [ "code-action", "workspace-command", "diagnostics" ] }';

const USER_FILE = `# my Helix languages — this comment must survive
[[language]]
name = "typescript"
language-servers = [
  "typescript-language-server", # the main one
  "eslint",
]
auto-format = true

[[language]]
name = "python"
indent = { tab-width = 4, unit = "    " }

[[language]]
name = "rust"
language-servers = ["rust-analyzer", { name = "codebench", only-features = ["code-action"] }]

[language-server.eslint]
command = "vscode-eslint-language-server"
args = ["--stdio"]   # keep me
`;

describe('codebench helix-config', () => {
  let sandbox: CliSandbox;
  let helixDir: string;
  let languagesFile: string;

  beforeEach(() => {
    sandbox = createCliSandbox('codebench-helix-config-');
    helixDir = join(sandbox.env.XDG_CONFIG_HOME!, 'helix');
    languagesFile = join(helixDir, 'languages.toml');
  });
  afterEach(() => sandbox.cleanup());

  it('keeps the user\'s servers, comments and settings and adds codebench with only its features', async () => {
    mkdirSync(helixDir, { recursive: true });
    writeFileSync(languagesFile, USER_FILE);
    const result = await runInSandbox(sandbox, ['helix-config', '--languages', 'ts,py,rust']);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    // Unrelated text byte for byte.
    expect(out.startsWith('# my Helix languages — this comment must survive\n[[language]]\nname = "typescript"\n')).toBe(true);
    expect(out).toContain('[language-server.eslint]\ncommand = "vscode-eslint-language-server"\nargs = ["--stdio"]   # keep me\n');
    // A multi-line list: the entry goes on its own line, comments kept.
    expect(out).toContain(`language-servers = [\n  "typescript-language-server", # the main one\n  "eslint",\n  ${ENTRY},\n]\nauto-format = true\n`);
    // A table without a list gets Helix's defaults (a user list replaces them) and keeps its keys.
    expect(out).toContain(`name = "python"\nlanguage-servers = [ "ruff", "jedi", "pylsp", ${ENTRY} ]\nindent = { tab-width = 4, unit = "    " }\n`);
    // An existing codebench entry is refreshed, not duplicated.
    expect(out).toContain(`language-servers = ["rust-analyzer", ${ENTRY}]\n`);
    // "ts" means both TypeScript languages; Markdown is always added for the chat file.
    expect(out).toContain(`[[language]]\nname = "tsx"\nlanguage-servers = [ "typescript-language-server", ${ENTRY} ]\n`);
    expect(out).toContain(`[[language]]\nname = "markdown"\nlanguage-servers = [ "marksman", "markdown-oxide", ${ENTRY} ]\n`);
    expect(out).toContain('[language-server.codebench]\ncommand = "codebench"\nargs = [ "lsp" ]\n');
    expect(out).toMatch(/\ntimeout = 20\n/);
    expect(out.match(/\[language-server\.codebench\]/g)).toHaveLength(1);
    // Printing never touches the file; stderr carries the advice, stdout only TOML.
    expect(readFileSync(languagesFile, 'utf8')).toBe(USER_FILE);
    expect(result.stderr).toContain('display-progress-messages = true');
  });

  it('is idempotent: running it on its own output changes nothing', async () => {
    mkdirSync(helixDir, { recursive: true });
    writeFileSync(languagesFile, USER_FILE);
    const first = await runInSandbox(sandbox, ['helix-config']);
    writeFileSync(languagesFile, first.stdout);
    const second = await runInSandbox(sandbox, ['helix-config']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Every common language once.
    for (const language of ['typescript', 'javascript', 'python', 'rust', 'go', 'c', 'cpp', 'lua', 'java', 'ruby', 'php', 'bash', 'json', 'yaml', 'toml', 'markdown', 'html', 'css', 'zig']) {
      expect(first.stdout.match(new RegExp(`^name = "${language}"$`, 'gm')), language).toHaveLength(1);
    }
  });

  it('--write creates the file (with a backup of an old one), --command sets the command, advice on stdout', async () => {
    const fresh = await runInSandbox(sandbox, ['helix-config', '--languages', 'go', '--write', '--command', '/opt/cb/codebench']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(existsSync(`${languagesFile}.bak`)).toBe(false);
    const written = readFileSync(languagesFile, 'utf8');
    expect(written).toContain(`name = "go"\nlanguage-servers = [ "gopls", "golangci-lint-lsp", ${ENTRY} ]`);
    expect(written).toContain('command = "/opt/cb/codebench"');
    expect(fresh.stdout).toContain(`Wrote ${languagesFile}`);
    expect(fresh.stdout).toContain('[editor.lsp]\ndisplay-progress-messages = true');

    writeFileSync(join(helixDir, 'config.toml'), '[editor.lsp]\ndisplay-progress-messages = true\n');
    const again = await runInSandbox(sandbox, ['helix-config', '--languages', 'rs', '--write']);
    expect(again.code).toBe(0);
    expect(readFileSync(`${languagesFile}.bak`, 'utf8')).toBe(written);
    expect(again.stdout).toContain('display-progress-messages is already on');
    // The user's (earlier generated) command is kept when --command is not given.
    expect(readFileSync(languagesFile, 'utf8')).toContain('command = "/opt/cb/codebench"');
  });

  it('--config names another file', async () => {
    const other = join(sandbox.root, 'project', '.helix', 'languages.toml');
    mkdirSync(join(sandbox.root, 'project', '.helix'), { recursive: true });
    writeFileSync(other, '[[language]]\nname = "lua"\nlanguage-servers = []\n');
    const result = await runInSandbox(sandbox, ['helix-config', '--languages', 'lua', '--config', other]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`[[language]]\nname = "lua"\nlanguage-servers = [ ${ENTRY} ]\n`);
  });

  it.each([
    [['--languages', 'cobol'], /unknown language "cobol"/],
    [['--languages', ' , '], /--languages: give a comma-separated list/],
    [['--command', ''], /--command: must not be empty/],
  ])('exits 2 with one line for bad values: %j', async (args, message) => {
    const result = await runInSandbox(sandbox, ['helix-config', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });

  it('refuses a broken languages.toml with the line, and a directory as --config', async () => {
    mkdirSync(helixDir, { recursive: true });
    writeFileSync(languagesFile, '[[language]]\nname = "rust\n');
    const broken = await runInSandbox(sandbox, ['helix-config']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/languages\.toml: unterminated string on line 2/);
    const directory = await runInSandbox(sandbox, ['helix-config', '--config', helixDir]);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toMatch(/is a directory/);
  });
});

describe('clients/helix/languages.toml', () => {
  it('is what the generator writes for a user without a languages.toml (after its header comment)', async () => {
    const sandbox = createCliSandbox('codebench-helix-example-');
    try {
      const result = await runInSandbox(sandbox, ['helix-config']);
      const example = readFileSync(join(import.meta.dirname, '..', '..', 'clients', 'helix', 'languages.toml'), 'utf8');
      expect(example.replace(/^(#[^\n]*\n)+\n/, '')).toBe(result.stdout);
    } finally {
      sandbox.cleanup();
    }
  });
});
