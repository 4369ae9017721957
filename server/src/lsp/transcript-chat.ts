import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, sep } from 'node:path';
import type { CodeAction, TextEdit, WorkspaceEdit } from 'vscode-languageserver';
import { CodeActionKind, ErrorCodes, ResponseError } from 'vscode-languageserver';
import type { Agent } from '../agent/agent.js';
import { computeEdits } from '../agent/proposals/text-edits.js';
import { loadTranscript, transcriptToMarkdown } from '../agent/history/transcript.js';
import { Commands, type AskStarted, type ChatOpened } from '../protocol/methods.js';
import type { Store } from '../store/store.js';
import type { AskFlow } from './ask-flow.js';
import { pathToUri, uriToPath, type DocumentStore } from './documents.js';
import type { EditorClient } from './editor-client.js';
import { offsetsToRange } from './positions.js';

/**
 * The chat panel Helix cannot have: a session's Markdown transcript in a file under the data
 * directory, opened with `window/showDocument`, ending in a `## you` heading under which the user
 * writes the next message and sends it with the "Send to agent" code action. When the run ends the
 * file is rewritten: through a versioned `workspace/applyEdit` while the editor has it open (never
 * the disk under an open buffer), on disk otherwise.
 */

export const CHAT_MARKER = '## you';
const CHAT_HINT = '<!-- Write your message below this line, then run the code action "Send to agent" (space a in Helix). -->';
/** New chats are `new-<time>.md`, one file each; a session's chat is `<session id>.md`. */
const NEW_CHAT = /^new(-[0-9a-z]+)?$/;
const SESSION_LINE = /^- Session: `+([^`]+)`+\s*$/m;

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

/** The whole chat file: the transcript (or a new-chat header), then the marker and the draft. */
export function chatFileText(transcript: string | undefined, draft = ''): string {
  const head = transcript?.trimEnd() ?? '# New codebench chat\n\n_The agent works in this project; its history is kept like any other session._';
  return `${head}\n\n---\n\n${CHAT_MARKER}\n\n${CHAT_HINT}\n\n${draft.trim() === '' ? '' : `${draft.trim()}\n`}`;
}

/** What the user wrote under the last marker, without the hint; '' when nothing. */
export function draftOf(text: string): string {
  const lines = text.split('\n');
  const marker = lines.findLastIndex((line) => line.trimEnd() === CHAT_MARKER);
  if (marker === -1) return '';
  return lines
    .slice(marker + 1)
    .filter((line) => line.trim() !== CHAT_HINT)
    .join('\n')
    .trim();
}

/** The draft minus the message just sent: what the user typed after sending is kept. */
function unsent(draft: string, sent: string | undefined): string {
  const message = sent?.trim() ?? '';
  return message !== '' && draft.startsWith(message) ? draft.slice(message.length).trim() : draft;
}

export function sessionIdOf(text: string): string | undefined {
  return SESSION_LINE.exec(text)?.[1];
}

export interface TranscriptChatOptions {
  agent: Agent;
  store: () => Promise<Store>;
  documents: DocumentStore;
  client: EditorClient;
  askFlow: AskFlow;
  dataDirectory: string;
  workspaceFolders: () => string[];
}

export class TranscriptChat {
  private readonly folder: string;
  /** The session of the latest ask in this process, offered as "Agent: open chat (last run)". */
  private lastSession: string | undefined;
  /** Each new chat file's session once sent, for when its buffer was closed unsaved (the disk has no session line). */
  private readonly newChatSessions = new Map<string, string>();
  /** The new chat last opened: offered again while it was never sent, so its draft is kept. */
  private currentNewChat: string | undefined;
  /** Chat files whose run is going: "Send to agent" waits for it (two answers would interleave). */
  private readonly runningChats = new Set<string>();

  constructor(private readonly options: TranscriptChatOptions) {
    this.folder = join(options.dataDirectory, 'chats');
  }

  noteSession(sessionId: string): void {
    this.lastSession = sessionId;
  }

  isChatFile(uri: string): boolean {
    const path = uriToPath(uri);
    return !!path && path.startsWith(this.folder + sep) && path.endsWith('.md');
  }

  /** From memory only, like every code action. */
  codeActions(uri: string): CodeAction[] {
    const actions: CodeAction[] = [];
    const command = (title: string, name: string, argument: unknown): CodeAction => ({
      title,
      kind: CodeActionKind.Empty,
      command: { title, command: name, arguments: [argument] },
    });
    if (this.isChatFile(uri)) {
      const path = uriToPath(uri);
      if (!path || !this.runningChats.has(path)) actions.push({ ...command('Send to agent', Commands.sendChat.command, { uri }), isPreferred: true });
    } else if (this.options.client.features.inlineReview) {
      // The plugin has its own chat panel: a chat file would replace the source window.
      return [];
    } else if (this.lastSession) actions.push(command('Agent: open chat (last run)', Commands.openChat.command, { sessionId: this.lastSession }));
    actions.push(command('Agent: open chat', Commands.openChat.command, {}));
    return actions;
  }

  async open(sessionId: string | undefined): Promise<ChatOpened> {
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    let path: string;
    if (sessionId) {
      path = join(this.folder, `${sessionId}.md`);
      const markdown = await this.markdown(sessionId);
      if (markdown === undefined) throw invalid(`Invalid params: ${Commands.openChat.command} arguments[0].sessionId: no session with id "${sessionId}"`);
      await this.rewrite(path, markdown, undefined);
    } else {
      // A new chat that was never sent is offered again with its draft; one that became a
      // session stays as it is, and the new chat gets a file of its own.
      const previous = this.currentNewChat;
      const current = previous === undefined ? undefined : this.currentText(previous);
      if (previous !== undefined && current !== undefined && sessionIdOf(current) === undefined && !this.newChatSessions.has(previous)) path = previous;
      else {
        path = join(this.folder, `new-${Date.now().toString(36)}.md`);
        this.currentNewChat = path;
        await this.rewrite(path, undefined, undefined, true);
      }
    }
    const uri = pathToUri(path);
    const shown = await this.options.client.showDocument(uri);
    if (!shown) this.options.client.show('info', `codebench chat: open ${path}, write under "${CHAT_MARKER}" and run the code action "Send to agent".`);
    return { uri, shown };
  }

  async send(uri: string): Promise<AskStarted | null> {
    const path = this.isChatFile(uri) ? uriToPath(uri) : undefined;
    if (!path) throw invalid(`Invalid params: ${Commands.sendChat.command} arguments[0].uri: not a codebench chat file (they live in ${this.folder})`);
    const text = this.currentText(path) ?? '';
    const draft = draftOf(text);
    if (draft === '') {
      this.options.client.show('warning', `codebench: write your message under "${CHAT_MARKER}" at the end of the chat file first.`);
      return null;
    }
    if (this.runningChats.has(path)) {
      this.options.client.show('warning', 'codebench: the agent is still answering in this chat; send again when it is done, or cancel the run first (code action "Cancel agent run").');
      return null;
    }
    const isNew = NEW_CHAT.test(basename(path, '.md'));
    const sessionId = isNew ? (sessionIdOf(text) ?? this.newChatSessions.get(path)) : basename(path, '.md');
    const workspace = await this.workspaceOf(sessionId);
    const { handle, finished } = await this.options.askFlow.start({ uri, instruction: draft, sessionId }, `${Commands.sendChat.command} arguments[0]`, workspace);
    this.noteSession(handle.sessionId);
    if (isNew) this.newChatSessions.set(path, handle.sessionId);
    this.runningChats.add(path);
    void finished
      .then(async () => {
        this.runningChats.delete(path);
        const markdown = await this.markdown(handle.sessionId);
        if (markdown !== undefined) await this.rewrite(path, markdown, draft, false, true);
        // A first message that failed unanswered leaves no session (and the draft stays in the
        // file): the next send starts the chat afresh instead of naming the deleted session.
        else if (this.newChatSessions.get(path) === handle.sessionId) this.newChatSessions.delete(path);
      })
      .catch((error: unknown) => {
        this.runningChats.delete(path);
        this.options.client.log(`chat transcript not updated: ${(error as Error).message}`);
      });
    return { runId: handle.runId, sessionId: handle.sessionId };
  }

  /** The session's own workspace; a new chat works in the first workspace folder. */
  private async workspaceOf(sessionId: string | undefined): Promise<string> {
    if (sessionId) {
      const session = await (await this.options.store()).getSession(sessionId);
      if (!session) throw invalid(`Invalid params: ${Commands.sendChat.command}: the chat's session "${sessionId}" no longer exists; open a new chat`);
      const folder = uriToPath(session.workspaceUri);
      if (folder) return folder;
    }
    const first = this.options.workspaceFolders()[0];
    if (!first) throw invalid(`Invalid params: ${Commands.sendChat.command}: no workspace folder; open a file of your project in the editor first`);
    return first;
  }

  private async markdown(sessionId: string): Promise<string | undefined> {
    const transcript = await loadTranscript(await this.options.store(), sessionId);
    return transcript ? transcriptToMarkdown(transcript) : undefined;
  }

  private currentText(path: string): string | undefined {
    const open = this.options.documents.get(path)?.text;
    if (open !== undefined) return open;
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  /**
   * Writes the chat file. A message the user started typing during the run is kept (everything
   * under the marker except what was just sent); an editor that refuses the edit because the
   * user typed at that very moment gets one more try against the newer version.
   */
  private async rewrite(path: string, markdown: string | undefined, sent: string | undefined, fresh = false, scrollToReply = false): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const open = this.options.documents.get(path);
      const current = open?.text ?? this.currentText(path);
      const draft = !fresh && current !== undefined ? draftOf(current) : '';
      const text = chatFileText(markdown, unsent(draft, sent));
      if (!open) {
        writeFileSync(path, text, { mode: 0o600 });
        return;
      }
      if (open.text === text) return;
      const result = await this.options.client.applyEdit('codebench chat', this.edit(path, open.text, open.version, text));
      if (result.applied) {
        if (scrollToReply) await this.showReply(path, text);
        return;
      }
    }
    this.options.client.show('warning', `codebench: could not update the chat file ${path}; run "Agent: open chat" again to refresh it.`);
  }

  /**
   * Moves the open chat to the start of the newest run, so the answer is on screen rather than
   * below it (Helix keeps the cursor where it was, above the rewritten text).
   */
  private async showReply(path: string, text: string): Promise<void> {
    const lines = text.split('\n');
    let line = -1;
    for (let index = lines.length - 1; index >= 0; index--) {
      if (lines[index]!.startsWith('## Run ')) {
        line = index;
        break;
      }
    }
    if (line < 0) return;
    const position = { line, character: 0 };
    await this.options.client.showDocument(pathToUri(path), { start: position, end: position });
  }

  private edit(path: string, oldText: string, version: number, newText: string): WorkspaceEdit {
    const { encoding, features } = this.options.client;
    const uri = pathToUri(path);
    const edits: TextEdit[] = computeEdits(oldText, newText).map((edit) => ({
      range: offsetsToRange(oldText, edit.start, edit.end, encoding),
      newText: edit.newText,
    }));
    return features.documentChanges ? { documentChanges: [{ textDocument: { uri, version }, edits }] } : { changes: { [uri]: edits } };
  }
}
