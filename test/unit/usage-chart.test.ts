import { describe, expect, it } from 'vitest';
import { bar, formatUsd, groupDigits, renderUsageChart, renderUsageTable, type UsageTable } from '../../server/src/cli/usage-chart.js';

/** `codebench usage`'s table and bar chart, as exact text. */

const DAYS: UsageTable = {
  rows: [
    { key: '2026-03-01', inputTokens: 1_234_567, outputTokens: 8_900, cachedInputTokens: 1_000_000, costUsd: 0.8 },
    { key: '2026-03-02', inputTokens: 40, outputTokens: 9, cachedInputTokens: 0, costUsd: 0.2 },
    { key: '2026-03-04', inputTokens: 300, outputTokens: 20, cachedInputTokens: 200, costUsd: 0.41 },
  ],
  totals: { inputTokens: 1_234_907, outputTokens: 8_929, cachedInputTokens: 1_000_200, costUsd: 1.41 },
};

describe('usage table', () => {
  it('aligns keys left and figures right, with a totals line', () => {
    expect(renderUsageTable(DAYS, 'day')).toBe(
      [
        'day             input     cached  output     cost',
        '2026-03-01  1,234,567  1,000,000   8,900  $0.8000',
        '2026-03-02         40          0       9  $0.2000',
        '2026-03-04        300        200      20  $0.4100',
        'total       1,234,907  1,000,200   8,929  $1.4100',
        '',
      ].join('\n'),
    );
  });

  it('shortens session ids as history does and shows control characters instead of obeying them', () => {
    const table: UsageTable = {
      rows: [
        { key: '0123456789abcdef-0000', inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, costUsd: 0 },
      ],
      totals: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, costUsd: 0 },
    };
    expect(renderUsageTable(table, 'session').split('\n')[1]).toBe('01234567      1       0       2  $0.0000');
    const hostile: UsageTable = { rows: [{ ...table.rows[0]!, key: 'evil\u001b[2J' }], totals: table.totals };
    expect(renderUsageTable(hostile, 'provider')).toContain('evil^[[2J');
  });
});

describe('usage chart', () => {
  it('draws cost bars scaled to the largest row, to an eighth of a cell', () => {
    // 0.2 / 0.8 of 40 cells = 10 cells; 0.41 / 0.8 × 40 = 20.5 cells = 20 full and a half block.
    expect(renderUsageChart(DAYS, 'day')).toBe(
      [
        'cost (USD) by day',
        `2026-03-01  ${'█'.repeat(40)} $0.8000`,
        `2026-03-02  ${'█'.repeat(10)}${' '.repeat(31)}$0.2000`,
        `2026-03-04  ${'█'.repeat(20)}▌${' '.repeat(20)}$0.4100`,
        '',
      ].join('\n'),
    );
  });

  it('draws token bars (input + output) when nothing cost anything', () => {
    const free: UsageTable = {
      rows: [
        { key: 'local', inputTokens: 700, outputTokens: 100, cachedInputTokens: 0, costUsd: 0 },
        { key: 'lm', inputTokens: 90, outputTokens: 10, cachedInputTokens: 0, costUsd: 0 },
      ],
      totals: { inputTokens: 790, outputTokens: 110, cachedInputTokens: 0, costUsd: 0 },
    };
    // 100 / 800 of 8 cells = 1 cell.
    expect(renderUsageChart(free, 'provider', undefined, 8)).toBe(['tokens (input + output) by provider', 'local  ████████ 800', 'lm     █        100', ''].join('\n'));
  });

  it('colours only the bars, the title and the totals, through the colours it is given', () => {
    const colors = { bold: (text: string) => `<b>${text}</b>`, dim: (text: string) => `<d>${text}</d>`, cyan: (text: string) => `<c>${text}</c>` };
    expect(renderUsageChart(DAYS, 'day', colors).split('\n').slice(0, 2)).toEqual(['<d>cost (USD) by day</d>', `2026-03-01  <c>${'█'.repeat(40)}</c> $0.8000`]);
    const table = renderUsageTable(DAYS, 'day', colors).split('\n');
    expect(table[0]).toMatch(/^<d>day .*cost<\/d>$/);
    expect(table[4]).toMatch(/^<b>total .*\$1\.4100<\/b>$/);
  });

  it('is empty without rows', () => {
    expect(renderUsageChart({ rows: [], totals: DAYS.totals }, 'day')).toBe('');
  });
});

describe('chart pieces', () => {
  it('gives every non-zero value at least an eighth, and nothing to zero', () => {
    expect(bar(1, 1_000_000, 40)).toBe('▏');
    expect(bar(0, 10, 40)).toBe('');
    expect(bar(3, 8, 1)).toBe('▍');
    expect(bar(7, 8, 1)).toBe('▉');
    expect(bar(8, 8, 2)).toBe('██');
    // 0.9 / 2.2 of 40 cells is 130.9 eighths: rounded to 131, 16 cells and three eighths.
    expect(bar(0.9, 2.2, 40)).toBe(`${'█'.repeat(16)}▍`);
  });

  it('formats numbers the same on every locale', () => {
    expect(groupDigits(0)).toBe('0');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(1000)).toBe('1,000');
    expect(groupDigits(12_345_678)).toBe('12,345,678');
    expect(formatUsd(0.00014000000000000001)).toBe('$0.0001');
    expect(formatUsd(12.5)).toBe('$12.5000');
  });
});
