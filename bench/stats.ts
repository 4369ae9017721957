/** Small, honest statistics: sorted samples, nearest-rank percentiles. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(samples: number[]): number {
  return percentile(samples, 50);
}

export function timeMs<T>(run: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = run();
  return [value, Number(process.hrtime.bigint() - start) / 1e6];
}

export async function timeMsAsync<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await run();
  return [value, Number(process.hrtime.bigint() - start) / 1e6];
}

export interface Result {
  name: string;
  value: number;
  unit: string;
  target?: string;
  /** Whether the target is met; undefined when there is no target. */
  ok?: boolean;
  floor?: number;
  note?: string;
}

export function result(name: string, value: number, unit: string, target?: { max: number; label?: string }, extra: Partial<Result> = {}): Result {
  return {
    name,
    value: Math.round(value * 1000) / 1000,
    unit,
    ...(target ? { target: target.label ?? `≤ ${target.max} ${unit}`, ok: value <= target.max } : {}),
    ...extra,
  };
}
