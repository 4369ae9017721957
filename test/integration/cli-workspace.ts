import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { makeWorkspace, type TestClient, type Workspace } from '../e2e/harness.js';
import { Commands } from '../../server/src/protocol/methods.js';

/**
 * The set-up both CLI datasources (claude, codex) are tested on end to end: a git workspace with a
 * committed file, an uncommitted change, and an unsaved buffer that is the only place the text the
 * CLI edits exists — so an edit can only be right if the CLI saw the buffer, and the user's tree
 * must come out untouched.
 */

export const ORIGINAL = 'export function greet(name: string): string {\n  return "hi " + name;\n}\n';
/** Only in the editor buffer: the CLI must see it, so its edit only applies to this text. */
export const UNSAVED = `// unsaved: wave 👋 first\n${ORIGINAL.replace('"hi "', '"hey "')}`;
export const EXPECTED = UNSAVED.replace('"hey "', '"hello there "');
export const FIRST_ASK = 'Greet with hello there';

export const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

/** Every file outside .git with its content. */
export function snapshot(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (directory: string) => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      if (name === '.git') continue;
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return files;
}

export interface CliWorkspace {
  workspace: Workspace;
  /** The user's tree and `git status` before anything ran, to prove nothing touched them. */
  diskBefore: Record<string, string>;
  statusBefore: string;
}

/** A committed repository with an uncommitted change, and a config whose only provider is `provider`. */
export function makeCliWorkspace(name: string, provider: Record<string, unknown>): CliWorkspace {
  const workspace = makeWorkspace({ 'src/greet.ts': ORIGINAL, 'README.md': '# demo\n' });
  git(workspace.root, 'init', '--quiet');
  git(workspace.root, 'add', '.');
  git(workspace.root, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'initial');
  writeFileSync(join(workspace.root, 'README.md'), '# demo\n\nuncommitted notes\n');
  writeFileSync(workspace.configFile, JSON.stringify({ defaultProvider: name, providers: { [name]: provider } }));
  return { workspace, diskBefore: snapshot(workspace.root), statusBefore: git(workspace.root, 'status', '--porcelain') };
}

/** The files, `git status` and worktree list are as before: the CLI only ever worked in its shadow. */
export function expectUserTreeUntouched({ workspace, diskBefore, statusBefore }: CliWorkspace): void {
  expect(snapshot(workspace.root)).toEqual(diskBefore);
  expect(git(workspace.root, 'status', '--porcelain')).toBe(statusBefore);
  expect(git(workspace.root, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
}

/** Runs `codebench.ask` and waits for its progress to end; returns the ids and its progress messages. */
export async function askAndWait(client: TestClient, params: Record<string, unknown>): Promise<{ sessionId: string; messages: string[] }> {
  const progressBefore = client.progress.length;
  const started = await client.command(Commands.ask.command, params);
  const begin = await client.waitFor(() => client.progress.slice(progressBefore).find((record) => record.value.kind === 'begin'), 10_000, 'progress begin');
  await client.waitFor(() => client.progressEnd(begin.token), 45_000, 'progress end');
  const messages = client.progress.filter((record) => record.token === begin.token).map((record) => record.value.message ?? '');
  return { sessionId: started.sessionId, messages };
}
