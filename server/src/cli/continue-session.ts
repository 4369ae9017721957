import type { Store } from '../store/store.js';
import { CliError, type CliContext } from './context.js';
import { resolveSession } from './history.js';
import { visible } from './terminal-text.js';

/**
 * `--session ID` for `ask` and `chat`: the user's own session, or a teammate's (pulled by team
 * sync), which is read-only here: continuing it starts a new session of the user's own that links
 * to it and starts from its turns. Own sessions win; a teammate's is looked up only when no own
 * session matches.
 */
export async function sessionToContinue(
  context: CliContext,
  store: Store,
  reference: string,
  flag: string,
): Promise<{ sessionId: string } | { continuesSessionId: string }> {
  try {
    return { sessionId: (await resolveSession(store, reference, flag)).id };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    const found = await store.sync.findTeamSession(reference);
    if (found.kind !== 'found') throw error;
    const team = found.item;
    context.io.stderr.write(`${visible(team.author)}'s session "${visible(team.title)}" is read-only here: continuing it in a new session of yours\n`);
    return { continuesSessionId: team.id };
  }
}
