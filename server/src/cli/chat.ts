import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Approver } from '../agent/commands/approvals.js';
import type { Proposal } from '../agent/proposals/proposal.js';
import { questionOn, terminalApprover } from './approve-prompt.js';
import { osKeychain } from '../providers/keychain.js';
import { startBackgroundSync } from '../sync/background.js';
import { CliError, type CliContext } from './context.js';
import { sessionToContinue } from './continue-session.js';
import type { Register } from './subcommand.js';
import { RunRenderer } from './render.js';
import { visible } from './terminal-text.js';
import { applyAndReport, printProposal, runTurn, sigintRouter } from './turn.js';

const HISTORY_SIZE = 500;

const HELP = `Commands:
  /sessions        list this workspace's sessions
  /new             start a new session
  /session ID      continue another session
  /provider NAME   use another configured provider
  /apply           apply the pending proposal
  /discard         discard the pending proposal
  /quit            leave (Ctrl-D works too)
Anything else is sent to the agent. Ctrl-C cancels a running turn.`;

interface ChatState {
  sessionId?: string;
  /** A teammate's session the next new session continues (`--session` with a team session id). */
  continuesSessionId?: string;
  provider?: string;
  pending?: Proposal;
  /** Asks on chat's own readline, so the answer is not taken as the next message. */
  approver?: Approver;
}

export const registerChat: Register = (program, context) => {
  program
    .command('chat')
    .description('an interactive conversation with the agent about this workspace')
    .option('-s, --session <id>', 'continue a stored session')
    .option('-p, --provider <name>', 'a configured provider (default: defaultProvider)')
    .action(async (options: { session?: string; provider?: string }) => {
      process.exitCode = await runChat(context, options);
    });
};

function historyFile(context: CliContext): string {
  return join(context.runtime().dataDirectory, 'chat-history');
}

function loadHistory(file: string): string[] {
  try {
    // readline wants newest first.
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function saveHistory(file: string, history: string[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${[...history].reverse().join('\n')}\n`, { mode: 0o600 });
  } catch {
    // Input history is a convenience; never fail a chat over it.
  }
}

async function runChat(context: CliContext, options: { session?: string; provider?: string }): Promise<number> {
  const runtime = context.runtime();
  const state: ChatState = { provider: options.provider };
  if (options.session) {
    const store = await runtime.store();
    // Short ids, as `history list` prints them, are resolved to the full one.
    const session = await sessionToContinue(context, store, options.session, '--session');
    if ('continuesSessionId' in session) state.continuesSessionId = session.continuesSessionId;
    else {
      state.sessionId = session.sessionId;
      const messages = await store.listMessages(session.sessionId);
      context.io.stderr.write(`continuing session ${session.sessionId} (${messages.length} messages)\n`);
    }
  }
  const interactive = context.isInteractive;
  const file = historyFile(context);
  const readline = createInterface({
    input: context.io.stdin,
    output: context.io.stdout,
    terminal: interactive,
    history: interactive ? loadHistory(file) : [],
    historySize: HISTORY_SIZE,
    prompt: 'you › ',
  });
  const renderer = new RunRenderer(context.io, context.env);
  state.approver = terminalApprover(context, { question: questionOn(readline), beforePrompt: () => renderer.stop() });
  let cancelTurn: (() => void) | undefined;
  // With a terminal, readline receives Ctrl-C; without one, the process does.
  readline.on('SIGINT', () => {
    if (cancelTurn) cancelTurn();
    else readline.close();
  });
  const interrupts = sigintRouter(() => readline.close());
  // A chat is long enough to sync in the background (config key "sync"); `ask` leaves it to `sync now`.
  const teamSync = runtime.config().sync
    ? startBackgroundSync({ store: await runtime.store(), config: runtime.config(), env: context.env, keychain: osKeychain, workspaces: [{ uri: context.workspaceUri(), root: context.workspaceRoot() }], log: () => undefined })
    : undefined;
  if (interactive) context.io.stderr.write('codebench chat — /help for commands, Ctrl-D to leave\n');
  try {
    if (interactive) readline.prompt();
    for await (const raw of readline) {
      const line = raw.trim();
      if (line !== '') {
        if (line.startsWith('/')) {
          if (!(await command(context, state, line))) break;
        } else {
          await turn(context, state, line, renderer, {
            onInterrupt: (handler) => {
              cancelTurn = handler;
              const release = interrupts.onInterrupt(handler);
              return () => {
                cancelTurn = undefined;
                release();
              };
            },
          });
        }
      }
      if (interactive) readline.prompt();
    }
  } finally {
    interrupts.dispose();
    await (await teamSync)?.stop();
    if (interactive) saveHistory(file, (readline as Interface & { history: string[] }).history);
    readline.close();
  }
  if (state.sessionId) context.io.stderr.write(`session ${state.sessionId}\n`);
  return 0;
}

async function turn(
  context: CliContext,
  state: ChatState,
  instruction: string,
  renderer: RunRenderer,
  interrupts: { onInterrupt(handler: () => void): () => void },
): Promise<void> {
  const approver = state.approver;
  // Used only when the agent creates the session (also a first ask's, re-created after it failed).
  const continues = state.continuesSessionId;
  const outcome = await runTurn(context, { instruction, provider: state.provider, sessionId: state.sessionId, ...(continues ? { continuesSessionId: continues } : {}), approver }, renderer, interrupts);
  state.sessionId = outcome.sessionId;
  if (!outcome.discardedSession) state.continuesSessionId = undefined;
  if (outcome.proposal) {
    if (state.pending) await context.runtime().agent.proposals.settle(state.pending.id, 'discarded', 'replaced by a newer proposal');
    state.pending = outcome.proposal;
    printProposal(context, renderer, outcome.proposal);
    context.io.stderr.write('/apply to write these changes, /discard to drop them\n');
  }
}

/** Returns false when the chat should end. */
async function command(context: CliContext, state: ChatState, line: string): Promise<boolean> {
  const [name, ...rest] = line.split(/\s+/);
  const argument = rest.join(' ');
  const { io } = context;
  switch (name) {
    case '/quit':
    case '/exit':
      return false;
    case '/help':
      io.stdout.write(`${HELP}\n`);
      return true;
    case '/new':
      state.sessionId = undefined;
      state.continuesSessionId = undefined;
      io.stderr.write('new session: your next message starts it\n');
      return true;
    case '/session': {
      if (!argument) {
        io.stderr.write('/session: give a session id, or the short id /sessions and history list print\n');
        return true;
      }
      try {
        const session = await sessionToContinue(context, await context.runtime().store(), argument, '/session');
        state.sessionId = 'sessionId' in session ? session.sessionId : undefined;
        state.continuesSessionId = 'continuesSessionId' in session ? session.continuesSessionId : undefined;
        if (state.sessionId) io.stderr.write(`continuing session ${state.sessionId}\n`);
      } catch (error) {
        if (!(error instanceof CliError)) throw error;
        io.stderr.write(`${visible(error.message)}\n`);
      }
      return true;
    }
    case '/sessions': {
      const store = await context.runtime().store();
      const sessions = await store.listSessions({ workspaceUri: context.workspaceUri(), limit: 20 });
      if (sessions.length === 0) io.stdout.write('no sessions in this workspace yet\n');
      for (const session of sessions) {
        const marker = session.id === state.sessionId ? '*' : ' ';
        // Titles come from instructions any front-end stored, and may hold control characters.
        io.stdout.write(`${marker} ${session.id}  ${session.updatedAt.slice(0, 16).replace('T', ' ')}  ${visible(session.title)}\n`);
      }
      return true;
    }
    case '/provider': {
      const providers = context.runtime().config().providers;
      if (!argument || !providers[argument]) io.stderr.write(`unknown provider "${visible(argument)}" (configured: ${visible(Object.keys(providers).join(', '))})\n`);
      else {
        state.provider = argument;
        io.stderr.write(`provider: ${argument}\n`);
      }
      return true;
    }
    case '/apply':
      if (!state.pending) io.stderr.write('nothing to apply\n');
      else {
        await applyAndReport(context, state.pending);
        state.pending = undefined;
      }
      return true;
    case '/discard':
      if (!state.pending) io.stderr.write('nothing to discard\n');
      else {
        await context.runtime().agent.proposals.settle(state.pending.id, 'discarded');
        state.pending = undefined;
        io.stderr.write('discarded\n');
      }
      return true;
    default:
      io.stderr.write(`unknown command ${visible(name ?? '')}; /help lists them\n`);
      return true;
  }
}
