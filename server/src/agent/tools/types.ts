import type { CommandGate } from '../commands/gate.js';
import type { WorkspaceFiles } from '../workspace/workspace-files.js';

export interface ToolContext {
  workspace: WorkspaceFiles;
  signal: AbortSignal;
  /** Policy, approval and audit for run_command; absent where commands cannot run (then it refuses). */
  commands?: CommandGate;
  /** This workspace's project memory, for remember; absent where no store is at hand (then it refuses). */
  memory?: ProjectMemory;
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
