import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, writeConfig } from '../e2e/harness.js';
import { startFakeModelServer, type FakeModelServer } from '../fakes/model-server.js';
import { prng, SOURCE, spawnServer, type Workspace } from './fault-harness.js';
import { LspWire, randomValue, type Random } from './fuzz-values.js';
import { Commands, Requests } from '../../server/src/protocol/methods.js';

/**
 * Thousands of random and mutated JSON-RPC messages against a spawned `codebench lsp`. The server
 * must never crash, must answer every request that arrived intact with a valid id (number or
 * string) with a result or an error, and must serve a normal request afterwards.
 *
 * Framing, as vscode-jsonrpc reads it (and as asserted here): it takes exactly Content-Length
 * bytes. A length that is too long swallows the following bytes until that many arrived — there is
 * no timeout, only an `onPartialMessage` event after 10 s — so a client that lies about the length
 * loses its own next bytes, nothing more; once the bytes are there the frame is decoded (here
 * padded with spaces, so it is still valid JSON and is answered). A length that is too short, a
 * header without Content-Length, a non-numeric length or a body that is not JSON are reported as
 * stream errors and the bytes are dropped; the reader resumes at the next header (after leftover
 * bytes of a short frame, which the client ends with a blank line). Batches (arrays) are not
 * supported by LSP: they are dropped with a logged error, not answered.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20251121);
const MESSAGES = 3200;

const REQUESTS = [
  'textDocument/codeAction',
  'workspace/executeCommand',
  Requests.ask.method,
  Requests.cancel.method,
  Requests.sessions.method,
  Requests.messages.method,
  Requests.search.method,
  Requests.proposals.method,
  Requests.proposal.method,
  Requests.health.method,
  'textDocument/hover',
  'textDocument/completion',
];
const NOTIFICATIONS = [
  'textDocument/didOpen',
  'textDocument/didChange',
  'textDocument/didClose',
  'textDocument/didSave',
  'workspace/didChangeConfiguration',
  'workspace/didChangeWorkspaceFolders',
  'window/workDoneProgress/cancel',
  '$/cancelRequest',
  '$/setTrace',
  '$/unknownNotification',
  'codebench/bogus',
];
const COMMANDS = [Commands.ask.command, Commands.askPrompt.command, Commands.cancel.command, Commands.applyProposal.command, Commands.previewProposal.command, Commands.discardProposal.command, Commands.confirmApplied.command, 'codebench.nope'];

describe('protocol fuzz', () => {
  let fake: FakeModelServer;
  let workspace: Workspace;

  beforeAll(async () => {
    fake = await startFakeModelServer();
    workspace = makeWorkspace({ 'main.py': SOURCE });
    writeConfig(workspace, fake);
  });
  afterAll(async () => {
    await fake.close();
  });

  it(`survives ${MESSAGES} random and mutated messages (seed ${SEED}) and answers every valid request`, async () => {
    const random: Random = prng(SEED);
    const child = spawnServer(workspace);
    const wire = new LspWire(child);
    const uri = workspace.uri('main.py');
    const unopened = workspace.uri('never-opened.py');
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const position = () =>
      random() < 0.5
        ? { line: Math.floor(random() * 3), character: Math.floor(random() * 10) }
        : { line: pick([-1, 1e9, 2 ** 31, 0.5]), character: pick([-5, 1e9, 3.7, 0]) };
    const range = () => ({ start: position(), end: position() });
    const template = (method: string): unknown => {
      switch (method) {
        case 'textDocument/codeAction':
          return { textDocument: { uri: pick([uri, unopened, 'untitled:x', 'not a uri']) }, range: range(), context: { diagnostics: [] } };
        case 'workspace/executeCommand':
          return { command: pick(COMMANDS), arguments: [{ uri: pick([uri, unopened]), instruction: 'explain', range: range(), proposalId: 'p', runId: 'r' }] };
        case Requests.ask.method:
          return { uri: pick([uri, unopened]), instruction: 'explain', range: range() };
        case 'textDocument/didOpen':
          return { textDocument: { uri: pick([uri, unopened]), languageId: 'python', version: 1, text: SOURCE } };
        case 'textDocument/didChange':
          return { textDocument: { uri: pick([uri, unopened]), version: Math.floor(random() * 100) }, contentChanges: [{ range: range(), text: 'é😀' }] };
        case 'workspace/didChangeConfiguration':
          return { settings: { codebench: randomValue(random, 2) } };
        default:
          return { uri, sessionId: 's', runId: 'r', query: 'héllo', limit: 5, proposalId: 'p', timeoutMs: 200 };
      }
    };
    /** Replace, drop or retype one field somewhere in a template. */
    const mutate = (value: unknown, depth = 0): unknown => {
      if (value === null || typeof value !== 'object' || depth > 3) return random() < 0.3 ? randomValue(random, 2) : value;
      const copy: any = Array.isArray(value) ? [...value] : { ...value };
      const keys = Object.keys(copy);
      if (keys.length === 0) return copy;
      const key = pick(keys);
      const roll = random();
      if (roll < 0.2) delete copy[key];
      else if (roll < 0.6) copy[key] = randomValue(random, 2);
      else copy[key] = mutate(copy[key], depth + 1);
      return copy;
    };

    await wire.request('initialize', { processId: process.pid, rootUri: workspace.uri(''), capabilities: { window: { workDoneProgress: true } } });
    wire.notify('initialized', {});
    wire.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: SOURCE } });

    let nextId = 1;
    const newId = () => (random() < 0.7 ? nextId++ : `s-${nextId++}`);
    const counts: Record<string, number> = {};
    const count = (kind: string) => (counts[kind] = (counts[kind] ?? 0) + 1);
    for (let i = 0; i < MESSAGES; i++) {
      const roll = random();
      if (roll < 0.35) {
        const method = pick(REQUESTS);
        const params = random() < 0.3 ? template(method) : random() < 0.8 ? mutate(template(method)) : randomValue(random, 3);
        wire.send({ jsonrpc: '2.0', id: newId(), method, params }, true);
        count('request');
      } else if (roll < 0.45) {
        wire.send({ jsonrpc: '2.0', id: newId(), method: `fuzz/${Math.floor(random() * 1e6)}`, params: randomValue(random, 2) }, true);
        count('unknown method');
      } else if (roll < 0.7) {
        const method = pick(NOTIFICATIONS);
        wire.send({ jsonrpc: '2.0', method, params: random() < 0.5 ? mutate(template(method)) : randomValue(random, 3) }, false);
        count('notification');
      } else if (roll < 0.78) {
        // Ids JSON-RPC does not allow: never answered as requests, must not hurt.
        wire.send({ jsonrpc: '2.0', id: pick([null, true, {}, [1], { id: 1 }]), method: pick(REQUESTS), params: {} }, false);
        count('odd id');
      } else if (roll < 0.82) {
        wire.send([{ jsonrpc: '2.0', id: newId(), method: Requests.sessions.method }, { jsonrpc: '2.0', method: 'initialized' }], false);
        count('batch');
      } else if (roll < 0.86) {
        wire.send(randomValue(random, 3), false);
        count('not a message');
      } else {
        count(`framing:${wire.mangled(random, { jsonrpc: '2.0', id: newId(), method: Requests.sessions.method, params: {} })}`);
      }
      if (i % 200 === 0) await wire.drain();
      if (i % 800 === 400) {
        // A few messages in the megabytes.
        const huge = 'é'.repeat(1_500_000 + Math.floor(random() * 500_000));
        wire.send({ jsonrpc: '2.0', id: newId(), method: Requests.search.method, params: { query: huge } }, true);
        wire.notify('textDocument/didOpen', { textDocument: { uri: workspace.uri(`huge-${i}.py`), languageId: 'python', version: 1, text: huge } });
        wire.send({ jsonrpc: '2.0', id: newId(), method: 'textDocument/codeAction', params: { textDocument: { uri: workspace.uri(`huge-${i}.py`) }, range: { start: { line: 0, character: 1e6 }, end: { line: 0, character: 1e6 + 5 } }, context: { diagnostics: [] } } }, true);
        wire.send({ jsonrpc: '2.0', id: newId(), method: `fuzz/huge`, params: { blob: huge } }, true);
        count('huge');
        await wire.drain();
      }
    }
    await wire.drain();
    const missing = await wire.waitForAnswers(60_000);
    expect(missing, `unanswered requests (seed ${SEED})`).toEqual([]);
    expect(wire.badResponses(), 'responses without result or a proper error').toEqual([]);
    expect(child.exitCode, wire.stderr).toBeNull();
    expect(wire.outputProblems).toEqual([]);

    // Still serving normally.
    const sessions = (await wire.request(Requests.sessions.method, {})) as { sessions: unknown[] };
    expect(Array.isArray(sessions.sessions)).toBe(true);
    fake.enqueue({ text: 'still fine' });
    const asked = (await wire.request(Requests.ask.method, { uri, instruction: 'after the fuzz', provider: 'ollama' }, 20_000)) as { status: string; text: string };
    expect(asked).toMatchObject({ status: 'completed', text: 'still fine' });
    // Malformed params are InvalidParams naming the field, never a handler's TypeError.
    expect(wire.internalErrors(), `seed ${SEED}, sent ${JSON.stringify(counts)}`).toEqual({});
    expect(counts.request! + counts['unknown method']!).toBeGreaterThan(1000);
    wire.close();
  }, 150_000);
});

