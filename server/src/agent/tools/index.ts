import type { ToolSpec } from '../../providers/types.js';
import { editFileTool } from './edit-file.js';
import { createGrepTool } from './grep.js';
import { listFilesTool } from './list-files.js';
import { readFileTool } from './read-file.js';
import { rememberTool } from './remember.js';
import { runCommandTool } from './run-command.js';
import type { Tool, ToolContext, ToolResult } from './types.js';
import { writeFileTool } from './write-file.js';

export type { ProjectMemory, RememberOutcome, Tool, ToolContext, ToolResult } from './types.js';

/**
 * The workspace tools every run gets. Their names and argument names are a public contract. Each
 * call makes its own grep, whose regex worker belongs to the caller (one per Agent).
 */
export function builtInTools(): Tool[] {
  return [readFileTool, listFilesTool, createGrepTool(), editFileTool, writeFileTool, runCommandTool, rememberTool];
}

export function toolSpecs(tools: Tool[]): ToolSpec[] {
  return tools.map(({ name, description, parameters }) => ({ name, description, parameters }));
}

/** Unknown tools, invalid arguments and failures all come back as results; this never throws. */
export async function runTool(tools: Tool[], name: string, rawArgs: unknown, context: ToolContext): Promise<ToolResult> {
  const tool = tools.find((candidate) => candidate.name === name);
  if (tool === undefined) {
    return {
      output: `There is no tool named "${name}". Available tools: ${tools.map((candidate) => candidate.name).join(', ')}.`,
      isError: true,
      activity: `unknown tool ${name}`,
    };
  }
  try {
    return await tool.execute(rawArgs, context);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { output: `${name} failed: ${message}`, isError: true, activity: `${name} failed` };
  }
}
