import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { BIN, REPO, writeConfig, type Workspace } from '../e2e/harness.js';
import { HELIX_DEFAULT_SERVERS } from '../../server/src/cli/helix-config.js';
import { arrayElements, scanToml, unquote } from '../../server/src/cli/helix-toml.js';

/**
 * Real Helix (Debian trixie's 25.01.1, fetched by scripts/fetch-helix.sh) driven under tmux with
 * the languages.toml that `codebench helix-config` generates: directive code action → progress in
 * the statusline → "Apply agent edit" → exact text on disk → `u` undoes it in one step.
 */
const HX = process.env.CODEBENCH_HX ?? join(REPO, '.cache', 'helix', 'bin', 'hx');
const HAVE_TMUX = spawnSync('tmux', ['-V']).status === 0;
const HAVE_HX = existsSync(HX) && spawnSync(HX, ['--version']).status === 0;
const MISSING = [!HAVE_TMUX && 'tmux (apt-get install tmux)', !HAVE_HX && `hx at ${HX} (run scripts/fetch-helix.sh)`].filter(Boolean);
if (MISSING.length > 0) {
  process.stderr.write(`\n!!! The real-Helix test is SKIPPED: missing ${MISSING.join(' and ')}.\n\n`);
}

const ORIGINAL = ['// @agent say hello instead of hi', 'export function greet(name: string): string {', '  return "hi " + name;', '}', ''].join('\n');
const EXPECTED = ['export function greet(name: string): string {', '  return "hello " + name;', '}', ''].join('\n');
const SLOW_ANSWER = 'I replaced the greeting with hello and removed the directive line as you asked, nothing else changed in the file.';

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One private tmux server per test run: `-L` keeps it apart from anyone else's tmux. */
class Tmux {
  readonly socket = `codebench-hx-${process.pid}`;
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  run(...args: string[]): string {
    return execFileSync('tmux', ['-u', '-L', this.socket, ...args], { encoding: 'utf8', env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  keys(...keys: string[]): void {
    this.run('send-keys', '-t', 'hx', ...keys);
  }

  screen(): string {
    return this.run('capture-pane', '-p', '-t', 'hx');
  }

  /** Polls the screen; on timeout the error shows the last screen, which is what a person saw. */
  async waitFor(test: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    const bottoms = new Set<string>();
    while (Date.now() < deadline) {
      screen = this.screen();
      if (test(screen)) return screen;
      bottoms.add(screen.trimEnd().split('\n').slice(-2).join('\n'));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}; the screen was:\n${screen}\nthe last two lines seen meanwhile:\n${[...bottoms].join('\n--\n')}`);
  }

  kill(): void {
    try {
      this.run('kill-server');
    } catch {
      // Already gone.
    }
  }
}

describe.skipIf(!HAVE_HX)('helix-config knows Helix 25.01', () => {
  it("has each language's default language-servers exactly as the hx binary embeds them", () => {
    // Helix compiles its languages.toml into the binary; the last [[grammar]] is cut off because
    // other strings follow the text without a terminator.
    const binary = readFileSync(join(HX, '..', '..', 'root', 'usr', 'lib', 'hx', 'hx')).toString('latin1');
    const start = binary.indexOf('# Language support configuration.');
    expect(start).toBeGreaterThan(-1);
    const text = Buffer.from(binary.slice(start, binary.lastIndexOf('\n[[grammar]]')), 'latin1').toString('utf8');
    const builtIn = new Map<string, string[]>();
    for (const section of scanToml(text)) {
      if (!section.arrayOfTables || section.name !== 'language') continue;
      const value = (key: string) => {
        const found = section.keys.find((candidate) => candidate.key === key);
        return found ? text.slice(found.valueStart, found.valueEnd) : undefined;
      };
      const servers = value('language-servers');
      const names = servers
        ? arrayElements(servers).map(({ start, end }) => {
            const element = servers.slice(start, end);
            return element.startsWith('{') ? unquote(/name\s*=\s*("[^"]*")/.exec(element)![1]!) : unquote(element);
          })
        : [];
      builtIn.set(unquote(value('name')!), names);
    }
    for (const [language, servers] of Object.entries(HELIX_DEFAULT_SERVERS)) expect(builtIn.get(language), language).toEqual(servers);
  });
});

describe.skipIf(MISSING.length > 0)('real Helix 25.01 under tmux', () => {
  let base: string;
  let fake: FakeModelServer;
  let tmux: Tmux;
  let file: string;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'codebench-helix-'));
    const home = join(base, 'home');
    const helixConfig = join(home, '.config', 'helix');
    const project = join(base, 'project');
    const workspace: Workspace = { root: project, dataDir: join(base, 'data'), configFile: join(base, 'config.json'), uri: (path) => `file://${join(project, path)}` };
    for (const dir of [helixConfig, join(project, 'src'), join(base, 'bin')]) mkdirSync(dir, { recursive: true });
    file = join(project, 'src', 'greet.ts');
    writeFileSync(file, ORIGINAL);
    // Helix takes the nearest .git as its workspace, so the server's folder is the project.
    mkdirSync(join(project, '.git'));

    fake = await startFakeModelServer();
    writeConfig(workspace, fake);
    const wrapper = join(base, 'bin', 'codebench');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexport CODEBENCH_CONFIG=${shellQuote(workspace.configFile)} CODEBENCH_DATA_DIR=${shellQuote(workspace.dataDir)}\nexec ${shellQuote(process.execPath)} ${shellQuote(BIN)} "$@"\n`,
    );
    chmodSync(wrapper, 0o755);

    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TERM: 'xterm-256color', LANG: 'C.UTF-8' };
    // The generated config, exactly as a user gets it: no languages.toml yet, so Helix's defaults + codebench.
    const generated = spawnSync(process.execPath, [BIN, 'helix-config', '--languages', 'ts', '--command', wrapper, '--write'], { env, encoding: 'utf8' });
    expect(generated.status, generated.stderr).toBe(0);
    expect(generated.stdout).toContain('display-progress-messages = true');
    // Auto-save as clients/helix/README.md suggests for the chat file: no language server can save a buffer.
    writeFileSync(join(helixConfig, 'config.toml'), '[editor.lsp]\ndisplay-progress-messages = true\n\n[editor.auto-save]\nafter-delay.enable = true\n');

    tmux = new Tmux(env);
    tmux.run('new-session', '-d', '-s', 'hx', '-x', '200', '-y', '50', '-c', project, `exec ${shellQuote(HX)} src/greet.ts`);
    await tmux.waitFor((screen) => screen.includes('@agent say hello instead of hi'), 'Helix to show the file');
  }, 60_000);

  afterAll(async () => {
    tmux?.kill();
    await fake?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** A menu row: the whole title, padded, then the row's closing style or the line's end (not file text). */
  const menuRow = (entry: string) => new RegExp(` ${entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} *(\x1b|$)`, 'm');
  const styledScreen = () => tmux.run('capture-pane', '-p', '-e', '-t', 'hx');

  /** `space a`, retried while the language server is still starting ("No code actions available"). */
  async function openCodeActions(expected: string): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      tmux.keys('Escape');
      tmux.keys('Space', 'a');
      try {
        await tmux.waitFor(() => menuRow(expected).test(styledScreen()), `"${expected}" in the code action menu`, 2_000);
        return tmux.screen();
      } catch (error) {
        if (Date.now() > deadline) {
          const rows = styledScreen().split('\n').filter((line) => line.includes(expected.slice(0, 10)));
          throw new Error(`${(error as Error).message}\nstyled rows: ${JSON.stringify(rows)}`);
        }
      }
    }
  }

  /** The code action menu's entries, top to bottom: the rows between the popup's borders. */
  function menuRows(): string[] {
    const titles = /(?:^|[│ ])\s((?:Apply|Preview|Discard) agent edit: .+?|Cancel agent run: .+?|Agent: .+?|Send to agent|Undo agent edit: .+?)(?:\s{2,}|$)/;
    return tmux
      .screen()
      .split('\n')
      .map((line) => titles.exec(line)?.[1]?.trim())
      .filter((title): title is string => title !== undefined && !title.includes('@agent'));
  }

  /**
   * Moves the menu selection down to the entry (the whole title, padded: "Agent: open chat" is
   * not "Agent: open chat (last run)") and runs it. Helix draws the selected row in reverse video.
   */
  async function choose(entry: string): Promise<void> {
    const row = menuRow(entry);
    for (let step = 0; step < 20; step++) {
      const line = styledScreen().split('\n').find((candidate) => row.test(candidate));
      if (!line) throw new Error(`"${entry}" is not in the menu:\n${tmux.screen()}`);
      if (/\x1b\[7m(?:(?!\x1b\[0m).)*$/.test(line.slice(0, line.search(row)))) {
        tmux.keys('Enter');
        return;
      }
      tmux.keys('C-n');
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`could not select "${entry}":\n${tmux.screen()}`);
  }

  it('runs the directive, shows progress, applies the proposal and undoes it in one step', async () => {
    fake.enqueue(
      {
        toolCalls: [
          { name: 'edit_file', args: { path: 'src/greet.ts', old_string: '// @agent say hello instead of hi\n', new_string: '' } },
          { name: 'edit_file', args: { path: 'src/greet.ts', old_string: '"hi "', new_string: '"hello "' } },
        ],
      },
      { text: SLOW_ANSWER, chunkDelayMs: 200 },
    );
    const menu = await openCodeActions('Agent: say hello instead of hi');
    if (process.env.CODEBENCH_HX_DEBUG) process.stderr.write(`${menu}\n`);
    expect(menu).toContain('Agent: explain this code');
    expect(menu).toContain('Agent: open chat');
    await choose('Agent: say hello instead of hi');

    // The spinner alone is not text; with display-progress-messages the status names the run.
    // Helix 25.01 draws a spinner in the statusline and, with display-progress-messages, the
    // status line `[token] title - message`; the slow final turn keeps both up for seconds.
    // The token is short, as the README shows it: `[codebench-1] codebench - …`.
    const progress = await tmux.waitFor((screen) => /^ NOR [\u2800-\u28ff] /m.test(screen) && /\[codebench-\d+\] (codebench - starting|editing|writing: )/.test(screen), 'a spinner and progress text in the statusline');
    expect(progress).toMatch(/\[codebench-\d+\] (codebench - starting: say hello instead of hi|editing src\/greet\.ts|writing: )/);

    // While it runs: "Cancel agent run" on top, the directive no longer offered.
    const during = await openCodeActions('Cancel agent run: say hello instead of hi');
    if (process.env.CODEBENCH_HX_DEBUG) process.stderr.write(`${during}\n`);
    expect(menuRows()[0]).toBe('Cancel agent run: say hello instead of hi');
    expect(menuRows()).not.toContain('Agent: say hello instead of hi');
    tmux.keys('Escape');
    await tmux.waitFor((screen) => /proposes changes|Agent proposal/.test(screen), 'the proposal message', 30_000);

    // The change is readable before applying it: on the hunk's line Helix shows its diagnostic,
    // which carries the new line, while the buffer still says "hi".
    tmux.keys('Escape');
    await new Promise((resolve) => setTimeout(resolve, 300));
    tmux.keys('3', 'g', 'g');
    const hunk = await tmux.waitFor((screen) => screen.includes('Agent proposal becomes: return "hello " + name;'), 'the hunk text in the diagnostic', 10_000);
    if (process.env.CODEBENCH_HX_DEBUG) process.stderr.write(`${hunk}\n`);
    expect(hunk).toContain('return "hi " + name;');

    const review = await openCodeActions('Apply agent edit: src/greet.ts (+1 −2)');
    if (process.env.CODEBENCH_HX_DEBUG) process.stderr.write(`${review}\n`);
    expect(menuRows().slice(0, 3)).toEqual(['Apply agent edit: src/greet.ts (+1 −2)', 'Preview agent edit: src/greet.ts (+1 −2)', 'Discard agent edit: src/greet.ts (+1 −2)']);
    expect(menuRows()).not.toContain('Agent: say hello instead of hi');
    await choose('Apply agent edit: src/greet.ts (+1 −2)');
    await tmux.waitFor((screen) => screen.includes('return "hello " + name;') && !screen.includes('@agent say hello'), 'the edit in the buffer');
    tmux.keys(':w', 'Enter');
    await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 10_000 }).toBe(EXPECTED);

    tmux.keys('Escape', 'u');
    await tmux.waitFor((screen) => screen.includes('@agent say hello instead of hi') && screen.includes('return "hi " + name;'), 'the undo');
    tmux.keys(':w', 'Enter');
    await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 10_000 }).toBe(ORIGINAL);
  }, 120_000);

  it('opens the chat transcript with showDocument and sends the message written under "## you"', async () => {
    await openCodeActions('Agent: open chat (last run)');
    await choose('Agent: open chat (last run)');
    await tmux.waitFor((screen) => /chats\/[0-9a-f-]{36}\.md/.test(screen) && screen.includes('# say hello instead of hi'), 'Helix to open the chat file');
    // The session's title is the user's request, not codebench's note to the model about the directive.
    expect(tmux.screen()).toMatch(/^\s*1\s+# say hello instead of hi$/m);
    tmux.keys('g', 'e', 'o');
    tmux.run('send-keys', '-t', 'hx', '-l', 'Why hello and not hi?');
    tmux.keys('Escape');
    fake.enqueue({ text: 'Because the directive asked for hello.', chunkDelayMs: 50 });
    await openCodeActions('Send to agent');
    await choose('Send to agent');
    // The transcript is rewritten in the buffer (applyEdit with the exact version), not on disk;
    // Helix's auto-save then writes it, so the disk shows what Helix holds.
    const chatFile = /chats\/([0-9a-f-]{36})\.md/.exec(tmux.screen())![0];
    const path = join(base, 'data', chatFile);
    await expect
      .poll(() => readFileSync(path, 'utf8'), { timeout: 20_000, interval: 500 })
      .toContain('Because the directive asked for hello.');
    const text = readFileSync(path, 'utf8');
    expect(text.indexOf('Why hello and not hi?')).toBeLessThan(text.indexOf('Because the directive asked for hello.'));
    // The reply is scrolled to: the cursor is on the newest run's heading.
    const runHeading = text.split('\n').findLastIndex((line) => line.startsWith('## Run ')) + 1;
    expect(runHeading).toBeGreaterThan(1);
    await tmux.waitFor((screen) => new RegExp(` ${runHeading}:1\\s*$`, 'm').test(screen), `the cursor on line ${runHeading}, the reply's heading`);
    expect(text).toMatch(/\n## you\n\n<!-- .* -->\n\n$/);

    // Saved after the reply: `:qa` quits instead of stopping on an unsaved buffer.
    await expect.poll(() => readFileSync(path, 'utf8'), { timeout: 10_000 }).toBe(text);
    tmux.keys(':qa', 'Enter');
    await expect
      .poll(() => {
        try {
          tmux.run('has-session', '-t', 'hx');
          return tmux.screen().split('\n').filter((line) => /unsaved|modified/.test(line)).join('\n') || 'still running';
        } catch {
          return 'exited';
        }
      }, { timeout: 10_000, interval: 300 })
      .toBe('exited');
  }, 120_000);
});
