import { InvalidArgumentError } from 'commander';
import { MAX_FACT_CHARS, storeFact } from '../agent/tools/remember.js';
import { MIN_ID_PREFIX } from '../store/id-prefix.js';
import type { MemoryFactRecord } from '../store/store.js';
import { CliError, type CliContext } from './context.js';
import { localTime } from './history.js';
import type { Register } from './subcommand.js';
import { terminalSafeJson, visible } from './terminal-text.js';

const ID_HELP = `fact id, or a unique prefix of at least ${MIN_ID_PREFIX} characters (as memory list shows)`;

function factReference(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < MIN_ID_PREFIX) throw new InvalidArgumentError(`give a ${ID_HELP}`);
  return trimmed;
}

export const registerMemory: Register = (program, context) => {
  const memory = program
    .command('memory')
    .description("the project memory: short facts every new session in this workspace starts with (default: list)");
  memory
    .command('list', { isDefault: true })
    .description('list the facts of this workspace, oldest first, with who remembered each')
    .option('--json', 'print the fact records as JSON')
    .action((options: { json?: boolean }) => listFacts(context, options));
  memory
    .command('add')
    .description(`remember a fact for this workspace (at most ${MAX_FACT_CHARS} characters; secrets are redacted)`)
    .argument('<fact...>', 'the fact; the words are joined with spaces')
    .action((words: string[]) => addFact(context, words.join(' ')));
  memory
    .command('rm')
    .alias('remove')
    .description('forget a fact (facts are never changed: forget one and add another)')
    .argument('<id>', ID_HELP, factReference)
    .action((id: string) => removeFact(context, id));
};

async function listFacts(context: CliContext, options: { json?: boolean }): Promise<void> {
  const store = await context.runtime().store();
  const facts = await store.listMemoryFacts(context.workspaceUri());
  if (options.json) {
    context.io.stdout.write(terminalSafeJson(`${JSON.stringify(facts, null, 2)}\n`));
    return;
  }
  if (facts.length === 0) {
    context.io.stderr.write(`No facts remembered for ${visible(context.workspaceRoot())}; add one with: codebench memory add "…"\n`);
    return;
  }
  // Facts are a model's or a user's words: control characters are shown, never obeyed.
  const lines = facts.map((fact) => `${shortId(fact.id)}  ${localTime(fact.createdAt)}  ${origin(fact)}  ${visible(fact.text.replace(/\s+/g, ' '))}`);
  context.io.stdout.write(`${lines.join('\n')}\n`);
}

async function addFact(context: CliContext, text: string): Promise<void> {
  const store = await context.runtime().store();
  const stored = await storeFact(store, { workspaceUri: context.workspaceUri(), text });
  if (!stored.ok) throw new CliError(`not remembered: ${stored.error}`, 2);
  const note = stored.redactions > 0 ? ' (secret-looking text was redacted)' : '';
  context.io.stdout.write(`remembered ${shortId(stored.fact.id)}: ${visible(stored.fact.text)}${note}\n`);
}

async function removeFact(context: CliContext, reference: string): Promise<void> {
  const store = await context.runtime().store();
  const removed = await store.removeMemoryFact(reference);
  const typed = visible(reference);
  switch (removed.kind) {
    case 'found':
      context.io.stdout.write(`forgot ${shortId(removed.item.id)}: ${visible(removed.item.text)}\n`);
      return;
    case 'too-short':
      throw new CliError(`no fact "${typed}": give a full id or a prefix of at least ${MIN_ID_PREFIX} characters`);
    case 'not-found':
      throw new CliError(`no fact matches "${typed}" (see codebench memory list)`);
    case 'ambiguous': {
      const lines = removed.candidates.map((fact) => `  ${shortId(fact.id)}  ${visible(clip(fact.text, 60))}`);
      if (removed.more) lines.push('  …');
      throw new CliError(`"${typed}" matches several facts; give more characters:\n${lines.join('\n')}`);
    }
  }
}

function origin(fact: MemoryFactRecord): string {
  return fact.runId === undefined ? 'added by you' : `run ${shortId(fact.runId)}`;
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
