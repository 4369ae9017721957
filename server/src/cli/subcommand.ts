import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from './context.js';

/**
 * What each subcommand module exports (program.ts lists them) and the option parsers they share;
 * kept out of program.ts so the modules it registers do not import it back.
 */
export type Register = (program: Command, context: CliContext) => void;

export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}
