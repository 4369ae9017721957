import { readFile, stat } from 'node:fs/promises';
import { ErrorCodes, MarkupKind, ResponseError, type Hover, type HoverParams, type MarkupContent } from 'vscode-languageserver';
import { provenanceInfo, provenanceOfLine } from '../../agent/history/provenance.js';
import { isInside } from '../../agent/workspace/path-checks.js';
import { MAX_TEXT_FILE_BYTES } from '../../agent/workspace/workspace-files.js';
import { Commands, Requests, type ProvenanceInfo } from '../../protocol/methods.js';
// Type-only: the hover's text is unit-tested without loading the runtime behind the host.
import type { AgentHost } from '../agent-host.js';
import { pathToUri, uriToPath } from '../documents.js';
import { route, type Route } from '../route.js';

/** The instruction as the hover shows it: its first line, this long at most. */
const MAX_INSTRUCTION_IN_HOVER = 160;

/**
 * Who wrote a line: `codebench/provenance` for rich clients, and the hover every client shows. Both
 * are one indexed query (the file's applied proposals) and the pure matching of
 * agent/history/provenance.ts over the file's current text: the open buffer as synced, unsaved
 * edits included, else the disk.
 */
export const provenanceRoutes: Route[] = [
  route(Requests.provenance, async (host, { uri, line }, { where }) => {
    const file = fileOf(host, uri);
    if (!file.ok) throw new ResponseError(ErrorCodes.InvalidParams, `Invalid params: ${where}.uri: ${file.error}`);
    return { provenance: (await lineProvenance(host, file.path, line)) ?? null };
  }),
];

export async function hover(host: AgentHost, params: HoverParams): Promise<Hover | null> {
  if (host.runtime.config().provenance?.hover === false) return null;
  const file = fileOf(host, params.textDocument.uri);
  if (!file.ok) return null;
  const found = await lineProvenance(host, file.path, params.position.line);
  if (found === undefined) return null;
  return { contents: hoverContents(found, hoverFormat(host), new Date()) };
}

type FileOf = { ok: true; path: string } | { ok: false; error: string };

/** The file a URI names, if it is a file: URI inside a workspace folder (any file when the server has none, as asks allow). */
function fileOf(host: AgentHost, uri: string): FileOf {
  const path = uriToPath(uri);
  if (path === undefined) return { ok: false, error: `only file: URIs are supported, got "${uri}"` };
  const folders = host.options.workspaceFolders();
  if (folders.length > 0 && !folders.some((root) => isInside(root, path))) return { ok: false, error: `${uri} is outside the workspace folders (${folders.join(', ')})` };
  return { ok: true, path };
}

/**
 * The provenance of one line (0-based), undefined when no applied proposal wrote it (or the file
 * is gone, is not a regular file, is too large, or has no such line). The store is asked first: a
 * file no proposal touched is never read.
 */
async function lineProvenance(host: AgentHost, path: string, line: number): Promise<ProvenanceInfo | undefined> {
  const store = await host.store();
  // Proposals record each file's URI as pathToFileURL spells it; a client may encode differently.
  const sources = await store.appliedProposalsOfFile(pathToUri(path));
  if (sources.length === 0) return undefined;
  const text = await currentText(host, path);
  if (text === undefined) return undefined;
  const owner = provenanceOfLine(text, sources, line);
  return owner && provenanceInfo(owner);
}

async function currentText(host: AgentHost, path: string): Promise<string | undefined> {
  const open = host.options.documents.get(path);
  if (open) return open.text;
  try {
    const info = await stat(path);
    if (!info.isFile() || info.size > MAX_TEXT_FILE_BYTES) return undefined;
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Markdown unless the client said it takes only plain text (`textDocument.hover.contentFormat`). */
function hoverFormat(host: AgentHost): 'markdown' | 'plaintext' {
  return host.options.client.features.hoverMarkdown ? 'markdown' : 'plaintext';
}

/** What the hover says: the instruction, when, provider/model, the session and how to open its transcript. */
export function hoverContents(info: ProvenanceInfo, format: 'markdown' | 'plaintext', now: Date): MarkupContent {
  const instruction = clipInstruction(info.instruction);
  const when = `${relativeTime(info.appliedAt, now)} (${info.appliedAt})`;
  const session = info.sessionId.slice(0, 8);
  if (format === 'plaintext') {
    const value = [
      `Written by the agent: ${instruction}`,
      `applied ${when}`,
      `${info.provider}/${info.model}, session ${session}`,
      `transcript: codebench history show ${session}`,
    ].join('\n');
    return { kind: MarkupKind.PlainText, value };
  }
  const link = `command:${Commands.openChat.command}?${encodeURIComponent(JSON.stringify([{ sessionId: info.sessionId }]))}`;
  const value = [
    `**Written by the agent:** ${escapeMarkdown(instruction)}`,
    '',
    `applied ${when} · ${code(`${info.provider}/${info.model}`)} · session ${code(session)}`,
    '',
    `[Open the transcript](${link}) (or \`:Codebench history\`, \`codebench history show ${session}\`)`,
  ].join('\n');
  return { kind: MarkupKind.Markdown, value };
}

function clipInstruction(instruction: string): string {
  const lines = instruction.trim().split(/\r?\n/);
  const first = lines[0]!.replace(/\s+/g, ' ');
  const clipped = first.length > MAX_INSTRUCTION_IN_HOVER ? `${first.slice(0, MAX_INSTRUCTION_IN_HOVER - 1)}…` : first;
  return lines.length > 1 && clipped === first ? `${clipped} …` : clipped;
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago". */
export function relativeTime(iso: string, now: Date): string {
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return 'at an unknown time';
  if (seconds < 45) return 'just now';
  const units: Array<[name: string, seconds: number]> = [['day', 86_400], ['hour', 3_600], ['minute', 60]];
  for (const [name, size] of units) {
    const count = Math.round(seconds / size);
    if (count >= 1 && seconds >= size * 0.75) return `${count} ${name}${count === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

/**
 * The instruction is the user's text: it must not turn into links, HTML, code or emphasis. It is
 * one line placed after other text, so line-start syntax (headings, lists, quotes) cannot arise.
 */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>&~|]/g, (char) => `\\${char}`);
}

/** An inline code span that holds any text (a backtick inside gets a longer fence). */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${text}${longest > 0 ? ' ' : ''}${fence}`;
}
