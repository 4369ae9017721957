import { createInterface as createPromiseInterface } from 'node:readline/promises';
import { createInterface, type Interface } from 'node:readline';
import type { ApprovalDecision, Approver } from '../agent/commands/approvals.js';
import type { CliContext } from './context.js';
import { colorsFor } from './render.js';
import { visible } from './terminal-text.js';

/** Asks one question and resolves the answer, or undefined when aborted or the input closed. */
export type Question = (query: string, signal: AbortSignal) => Promise<string | undefined>;

/**
 * The terminal's approver: a prompt on a TTY, [o]nce / [a]lways / anything else denies, so Enter
 * alone never runs a command. Without a terminal there is none: nothing can be asked, only rules
 * allow, and the gate tells the model that no one was asked (not that the user said no).
 */
export function terminalApprover(
  context: CliContext,
  options: { question?: Question; beforePrompt?: () => void; onInterrupt?: () => void } = {},
): Approver | undefined {
  if (!context.isInteractive) return undefined;
  const question = options.question ?? questionOnce(context, options.onInterrupt ?? (() => undefined));
  return {
    async approve(request, signal): Promise<ApprovalDecision> {
      options.beforePrompt?.();
      // The command is the model's text: a \r or CSI K in it could repaint what the user approves.
      const colors = colorsFor(context.io.stderr, context.env);
      const shown = (text: string) => visible(text, colors);
      const always = request.alwaysRules ? `, [a]lways allow ${shown(request.alwaysRules.map((argv) => argv.join(' ')).join(' and '))}` : '';
      context.io.stderr.write(`\ncodebench wants to run:\n  ${shown(request.command)}\nin ${shown(request.cwd)} (${shown(request.reason)})\n`);
      const answer = (await question(`Allow [o]nce${always}, or [d]eny (default: deny; Ctrl-C cancels the run)? `, signal))?.trim().toLowerCase();
      if (answer === 'o' || answer === 'once' || answer === 'y' || answer === 'yes') return 'allow-once';
      if (always !== '' && (answer === 'a' || answer === 'always')) return 'allow-always';
      return 'deny';
    },
  };
}

/**
 * A fresh readline per question (for `ask`, where nothing else reads stdin during a turn). On a
 * terminal readline takes Ctrl-C itself (raw mode: no SIGINT reaches the process) and, with no
 * listener, only pauses, so the prompt would hang until the approval timeout: it cancels the run.
 */
function questionOnce(context: CliContext, onInterrupt: () => void): Question {
  return async (query, signal) => {
    const readline = createInterface({ input: context.io.stdin, output: context.io.stderr });
    readline.on('SIGINT', onInterrupt);
    try {
      return await askOn(readline, query, signal);
    } finally {
      readline.close();
    }
  };
}

/** Uses an existing interface (chat's): its next line answers the question instead of being a message. */
export function questionOn(readline: Interface): Question {
  return (query, signal) => askOn(readline, query, signal);
}

function askOn(readline: Interface, query: string, signal: AbortSignal): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(undefined);
    const onAbort = () => {
      readline.write('\n');
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    readline.once('close', () => resolve(undefined));
    readline.question(query, (answer) => {
      signal.removeEventListener('abort', onAbort);
      resolve(answer);
    });
  });
}

/**
 * Apply / Discard, as `ask` and `undo` ask: anything but a clear "apply" discards, so Enter alone
 * never writes files; on a terminal readline takes Ctrl-C itself, which also discards.
 */
export async function confirmApply(context: CliContext, question: string): Promise<boolean> {
  const readline = createPromiseInterface({ input: context.io.stdin, output: context.io.stderr });
  const abort = new AbortController();
  readline.on('SIGINT', () => abort.abort());
  try {
    const answer = (await readline.question(question, { signal: abort.signal })).trim().toLowerCase();
    return answer === 'a' || answer === 'apply' || answer === 'y' || answer === 'yes';
  } catch {
    return false;
  } finally {
    readline.close();
  }
}
