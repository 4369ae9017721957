import { visible } from './terminal-text.js';

/**
 * `codebench usage` as text: the table with its totals line, and a horizontal bar chart drawn with
 * block characters. Pure (no terminal, no clock), so tests check the text exactly; colours are
 * passed in and are identity functions without a terminal or with NO_COLOR.
 */

export interface UsageFigures {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costUsd: number;
}

export interface UsageTable {
  rows: Array<UsageFigures & { key: string }>;
  totals: UsageFigures;
}

/** The parts of picocolors the rendering uses. */
export interface ChartColors {
  bold(text: string): string;
  dim(text: string): string;
  cyan(text: string): string;
}

export const PLAIN: ChartColors = { bold: (text) => text, dim: (text) => text, cyan: (text) => text };

/** Bar length in cells for the largest value. */
export const CHART_WIDTH = 40;

/** Eighths of a cell, so a bar's length is exact to 1/8 of a character. */
const PARTIAL = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';

/** 1234567 → "1,234,567", the same on every locale. */
export function groupDigits(value: number): string {
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Dollars to four places: model calls cost fractions of a cent. The JSON keeps the unrounded figure. */
export function formatUsd(value: number): string {
  return `$${value.toFixed(4)}`;
}

/** The key as shown: session ids shortened as `history` shows them, control characters made visible. */
export function displayKey(key: string, by: string): string {
  return visible(by === 'session' ? key.slice(0, 8) : key);
}

/** `█████▍` for value/max of `width` cells; a non-zero value always gets at least an eighth. */
export function bar(value: number, max: number, width = CHART_WIDTH): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return FULL.repeat(Math.floor(eighths / 8)) + PARTIAL[eighths % 8]!;
}

/** Columns: key, input, cached, output, cost; then a totals line. */
export function renderUsageTable(table: UsageTable, by: string, colors: ChartColors = PLAIN): string {
  const header = [by, 'input', 'cached', 'output', 'cost'];
  const cells = (key: string, figures: UsageFigures) => [
    key,
    groupDigits(figures.inputTokens),
    groupDigits(figures.cachedInputTokens),
    groupDigits(figures.outputTokens),
    formatUsd(figures.costUsd),
  ];
  const body = table.rows.map((row) => cells(displayKey(row.key, by), row));
  const total = cells('total', table.totals);
  const widths = header.map((title, column) => Math.max(title.length, total[column]!.length, ...body.map((line) => line[column]!.length)));
  const line = (values: string[]) => values.map((value, column) => (column === 0 ? value.padEnd(widths[0]!) : value.padStart(widths[column]!))).join('  ');
  return [colors.dim(line(header)), ...body.map(line), colors.bold(line(total))].join('\n') + '\n';
}

/**
 * One bar per row: cost when any row cost something, else tokens (input + output), scaled to the
 * largest row. Labels are padded to one column, values follow the bars' full width.
 */
export function renderUsageChart(table: UsageTable, by: string, colors: ChartColors = PLAIN, width = CHART_WIDTH): string {
  if (table.rows.length === 0) return '';
  const byCost = table.rows.some((row) => row.costUsd > 0);
  const valueOf = (row: UsageFigures) => (byCost ? row.costUsd : row.inputTokens + row.outputTokens);
  const label = (row: UsageFigures) => (byCost ? formatUsd(row.costUsd) : groupDigits(row.inputTokens + row.outputTokens));
  const max = Math.max(...table.rows.map(valueOf));
  const keys = table.rows.map((row) => displayKey(row.key, by));
  const keyWidth = Math.max(...keys.map((key) => key.length));
  const title = byCost ? `cost (USD) by ${by}` : `tokens (input + output) by ${by}`;
  const lines = table.rows.map((row, index) => {
    const drawn = bar(valueOf(row), max, width);
    return `${keys[index]!.padEnd(keyWidth)}  ${colors.cyan(drawn)}${' '.repeat(width + 1 - drawn.length)}${label(row)}`;
  });
  return [colors.dim(title), ...lines].join('\n') + '\n';
}
