import type { CommandGate } from '../commands/gate.js';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';

export interface ToolContext {
  workspace: WorkspaceFiles;
  signal: AbortSignal;
  /** Policy, approval and audit for run_command; absent where commands cannot run (then it refuses). */
  commands?: CommandGate;
  /** The run's private copy for run_command (staged edits included); absent: commands run in the user's tree. */
  commandWorkspace?: CommandCopy;
  /** This workspace's project memory, for remember; absent where no store is at hand (then it refuses). */
  memory?: ProjectMemory;
}

/** The run's private copy of the workspace that run_command works in (agent/workspace/command-workspace.ts). */
export interface CommandCopy {
  /** Starts making the copy of `root` (the first root by default), or returns the one made. */
  prepare(signal: AbortSignal, root?: string): Promise<unknown>;
  /** Writes the staged edits the copy does not have yet. */
  sync(): Promise<void>;
  /** A directory of the user's tree, in the copy. */
  directoryFor(root: string, absolutePath: string, signal: AbortSignal): Promise<string>;
  /** Stages what the last command changed in the copy. */
  collectChanges(): Promise<CommandChanges>;
}

/** What a command changed in the copy, after it was taken back into the run's staged edits. */
export interface CommandChanges {
  /** Workspace-relative paths now staged with the command's text, sorted. */
  staged: string[];
  /** Changed files that were not staged, and why (deleted, protected, binary, a link…). */
  skipped: Array<{ relativePath: string; reason: string }>;
}

/** The one write the model may make to the project memory: add a fact, tagged with its run. */
export interface ProjectMemory {
  remember(fact: string): Promise<RememberOutcome>;
}

export type RememberOutcome =
  | { ok: true; id: string; text: string; /** Secret-looking strings replaced before storing. */ redactions: number }
  | { ok: false; error: string };

export interface ToolResult {
  /** Written for the model: what happened, or what went wrong and how to correct the call. */
  output: string;
  isError: boolean;
  /** Short human text for editor progress, e.g. "reading src/a.ts". */
  activity: string;
  /**
   * Facts about the call for the agent, not the model (e.g. run_command's `exitCode`: a number,
   * or null when the command did not finish): the proposal's evidence reads them.
   */
  details?: Record<string, unknown>;
}

export interface Tool {
  name: string;
  /** Written for the model. */
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** Never throws: invalid arguments and failures come back as `isError` results. */
  execute(rawArgs: unknown, context: ToolContext): Promise<ToolResult>;
}
