import { Command, CommanderError } from 'commander';
import { registerAsk } from './ask.js';
import { registerChat } from './chat.js';
import { registerConfig } from './config-command.js';
import { dataDirectory } from '../config/load.js';
import { CliContext, CliError, dataDirectoryProblem, type CliIo } from './context.js';
import { registerDoctor } from './doctor.js';
import { registerHistory } from './history.js';
import { registerKeys } from './keys.js';
import { registerMemory } from './memory.js';
import { registerPolicy } from './policy.js';
import { registerHelixConfig } from './helix-config.js';
import { registerSync } from './sync.js';
import { registerBlame } from './blame.js';
import { registerUndo } from './undo.js';
import { registerUsage } from './usage.js';
import { registerModels } from './models.js';
import type { Register } from './subcommand.js';
import { visible } from './terminal-text.js';

/** Subcommands, one module each; `lsp` is handled before this module loads (start-up speed). */
const COMMANDS: Register[] = [registerAsk, registerChat, registerHistory, registerMemory, registerDoctor, registerConfig, registerHelixConfig, registerKeys, registerPolicy, registerSync, registerUndo, registerBlame, registerUsage, registerModels];

export function buildProgram(context: CliContext, version: string): Command {
  const program = new Command('codebench')
    .description('A local-first coding agent: in your editor (codebench lsp) and in your terminal.')
    .version(version, '-v, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.stderr.write(text),
    });
  program.command('lsp').description('start the language server on stdio (for editors)');
  program.command('acp').description('speak the Agent Client Protocol on stdio (Zed agent panel, other ACP clients)');
  program.addHelpText(
    'after',
    `
Configuration: $CODEBENCH_CONFIG, else $XDG_CONFIG_HOME/codebench/config.json
History:       $CODEBENCH_DATA_DIR, else $XDG_DATA_HOME/codebench/codebench.db
Try it:        codebench ask "explain what this project does"`,
  );
  for (const register of COMMANDS) register(program, context);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the terminal CLI; resolves to the process exit status. */
export async function runCli(argv: string[], io: CliIo, env: NodeJS.ProcessEnv, version: string): Promise<number> {
  const context = new CliContext(env, process.cwd(), io);
  const program = buildProgram(context, version);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (caught) {
    // An unwritable data directory fails every command that touches history: one line, not a stack.
    const error = dataDirectoryProblem(caught, dataDirectory(env)) ?? caught;
    if (error instanceof CommanderError) {
      // Help and version end in a CommanderError too; usage mistakes are status 2.
      // `commander.help` is help shown because a subcommand is missing: a usage mistake too.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      return 2;
    }
    if (error instanceof CliError) {
      // Messages may quote a session title, a path or a model's words: show controls, never obey them.
      io.stderr.write(`codebench: ${visible(error.message)}\n`);
      return error.exitCode;
    }
    throw error;
  } finally {
    await context.close();
  }
}
