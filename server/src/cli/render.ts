import pc from 'picocolors';
import yoctoSpinner, { type Spinner } from 'yocto-spinner';
import type { RunEvent } from '../agent/events.js';
import type { CliIo } from './context.js';
import { visible } from './terminal-text.js';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Colors {
  return pc.createColors(Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb');
}

/**
 * A unified diff with + / - / @@ lines coloured; plain when colours are off. File content in it is
 * shown with its control characters visible (a `\r` or CSI K must not repaint a `+` line).
 */
export function colorDiff(diff: string, colors: Colors): string {
  return diff
    .split('\n')
    .map((raw) => {
      const line = visible(raw, colors);
      if (raw.startsWith('+++') || raw.startsWith('---')) return colors.bold(line);
      if (raw.startsWith('+')) return colors.green(line);
      if (raw.startsWith('-')) return colors.red(line);
      if (raw.startsWith('@@')) return colors.cyan(line);
      return line;
    })
    .join('\n');
}

/**
 * Renders a run live: the model's text on stdout as it streams, tool steps one line each and a
 * spinner on stderr, so `codebench ask … > answer.md` captures just the answer. Everything from
 * the model (text, tool arguments in activity lines, error summaries) is shown with its control
 * characters visible, even in a pipe: the pipe usually ends at a terminal too.
 */
export class RunRenderer {
  private spinner: Spinner | undefined;
  private midLine = false;
  readonly colors: Colors;
  private readonly errColors: Colors;

  constructor(
    private readonly io: CliIo,
    env: NodeJS.ProcessEnv,
  ) {
    this.colors = colorsFor(io.stdout, env);
    this.errColors = colorsFor(io.stderr, env);
    if (io.stderr.isTTY) {
      // handleSignals: false — Ctrl-C must cancel the run, not kill the process from under it.
      this.spinner = yoctoSpinner({ stream: io.stderr, handleSignals: false, color: 'cyan' });
    }
  }

  waiting(text = 'thinking'): void {
    if (!this.spinner) return;
    this.breakLine();
    this.spinner.start(this.errColors.dim(text));
  }

  private pause(): void {
    if (this.spinner?.isSpinning) this.spinner.clear().stop();
  }

  private breakLine(): void {
    if (this.midLine) {
      this.io.stdout.write('\n');
      this.midLine = false;
    }
  }

  private note(line: string): void {
    this.pause();
    this.breakLine();
    this.io.stderr.write(`${line}\n`);
  }

  handle(event: RunEvent): void {
    switch (event.type) {
      case 'text':
        this.pause();
        this.io.stdout.write(visible(event.text, this.colors));
        this.midLine = !event.text.endsWith('\n');
        return;
      case 'tool-started':
        this.note(this.errColors.dim(`  → ${visible(event.activity, this.errColors)}`));
        this.waiting(visible(event.activity));
        return;
      case 'tool-finished':
        if (event.isError) this.note(this.errColors.yellow(`  ✗ ${visible(event.activity, this.errColors)} failed; the agent will adjust`));
        this.waiting();
        return;
      case 'notice':
        this.note(this.errColors.yellow(`  ! ${visible(event.message, this.errColors)}`));
        this.waiting();
        return;
      case 'proposal':
        this.pause();
        return;
      case 'finished':
        this.pause();
        this.breakLine();
        if (event.status === 'failed') this.io.stderr.write(`${this.errColors.red('error')}: ${visible(event.summary, this.errColors)}\n`);
        else if (event.status === 'cancelled') this.io.stderr.write(`${this.errColors.yellow('cancelled')}\n`);
        return;
    }
  }

  stop(): void {
    this.pause();
    this.breakLine();
  }
}
