// Figures, ratios and targets of one bench run, and how they are printed. Kept apart from the measuring code
// so the JSON shape (read by test/bench.test.ts and by people comparing runs) is defined in one place.

export type Unit = 'ms' | 'MB/s' | 'exec/s' | 'KB' | 'KB/conn' | 'count';

export interface Row {
  /** Stable key, e.g. 'exec.scout' (the test checks every expected id is present). */
  id: string;
  /** Row number in issue 10's list (1-10; 11: issue 11's warm-shell rows), for the table's grouping. */
  group: number;
  label: string;
  unit: Unit;
  /** The headline figure: the median sample (p50), or the single measurement; null when notMeasured. */
  value: number | null;
  /** Samples taken (1 for a single measurement, 0 when notMeasured). */
  count: number;
  /** Why this run could not measure the row (e.g. it needs root); absent for every measured row. */
  notMeasured?: string;
  p50?: number;
  p95?: number;
  p99?: number;
  /** Lower is better for times and memory, higher for throughput. */
  better: 'lower' | 'higher';
  /** Extra facts of the row (refusals, failures, bytes, pids…). */
  extra?: Record<string, number | string>;
  /** Ratios against other rows, computed by compare(). */
  vs?: Array<{ row: string; ratio: number; text: string }>;
}

export interface Target {
  text: string;
  /** How the ratio is formed, e.g. 'exec.scout / exec.ssh2'. */
  formula: string;
  /** null when notMeasured. */
  measured: number | null;
  /** The bound, and on which side the measured ratio must be. */
  bound: number;
  op: Op;
  met: boolean;
  /** measured / bound: with '>=' a value ≥ 1 meets the target, with '<=' a value ≤ 1 does; null when notMeasured. */
  ofTarget: number | null;
  /** Why this run could not measure the target's rows; absent when measured. */
  notMeasured?: string;
}

export type Op = '<=' | '>=' | '<' | '>';

export interface BenchResult {
  schema: 1;
  quick: boolean;
  startedAt: string;
  durationS: number;
  git: { sha: string; dirty: boolean };
  machine: Record<string, string | number>;
  /** `uptime` (load averages) before and after the run: the machine is shared, the figures move with it. */
  uptime: { before: string; after: string };
  rows: Row[];
  targets: Target[];
  notes: string[];
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples: number[]): { value: number; count: number; p50: number; p95: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const p50 = percentile(s, 50);
  return { value: p50, count: s.length, p50, p95: percentile(s, 95), p99: percentile(s, 99) };
}

export function compare(rows: Row[], id: string, against: string[]): void {
  const a = rows.find((r) => r.id === id);
  if (!a) return;
  a.vs = [];
  for (const other of against) {
    const b = rows.find((r) => r.id === other);
    if (!b || b.value === null || a.value === null || !(b.value > 0) || !(a.value > 0)) continue;
    const ratio = a.value / b.value;
    a.vs.push({ row: other, ratio: round(ratio, 3), text: describe(a, ratio, other) });
  }
}

/** A target over figures of this run; `notMeasured` (the reason) when the rows it needs were not measured. */
export function target(text: string, formula: string, measured: number, op: Op, bound: number, notMeasured?: string): Target {
  if (notMeasured !== undefined) return { text, formula, measured: null, bound, op, met: false, ofTarget: null, notMeasured };
  const holds = { '<=': measured <= bound, '>=': measured >= bound, '<': measured < bound, '>': measured > bound }[op];
  const met = Number.isFinite(measured) && holds;
  return { text, formula, measured: round(measured, 3), bound, op, met, ofTarget: round(measured / bound, 3) };
}

export function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** "2.9× faster than exec.mux", "1.11× the time of exec.ssh2", "0.62× the rate of get.mux", "250× smaller than …". */
function describe(a: Row, ratio: number, other: string): string {
  if (a.better === 'higher') return ratio >= 1 ? `${fmtRatio(ratio)} faster than ${other}` : `${fmtRatio(ratio)} the rate of ${other}`;
  if (a.unit === 'ms') return ratio <= 1 ? `${fmtRatio(1 / ratio)} faster than ${other}` : `${fmtRatio(ratio)} the time of ${other}`;
  return ratio <= 1 ? `${fmtRatio(1 / ratio)} smaller than ${other}` : `${fmtRatio(ratio)} the size of ${other}`;
}

function fmtRatio(r: number): string {
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toFixed(3)}×`;
}

function fmt(n: number | null | undefined, unit: Unit): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '';
  if (unit === 'ms') return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  if (unit === 'count') return String(Math.round(n));
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

/** The Markdown table printed on stdout (and pasted into docs/performance.md). */
export function table(result: BenchResult): string {
  const lines = ['| # | measurement | unit | p50 / value | p95 | p99 | n | ratio to comparison rows |', '|---|---|---|---:|---:|---:|---:|---|'];
  for (const r of result.rows) {
    const extra = r.extra
      ? Object.entries(r.extra)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')
      : '';
    const vs = (r.vs ?? []).map((v) => v.text).join('; ');
    const note = [r.notMeasured !== undefined ? `not measured: ${r.notMeasured}` : '', vs, extra].filter(Boolean).join('; ');
    lines.push(`| ${r.group} | ${r.label} | ${r.unit} | ${fmt(r.value, r.unit)} | ${fmt(r.p95, r.unit)} | ${fmt(r.p99, r.unit)} | ${r.count} | ${note} |`);
  }
  lines.push('', '| target | measured | bound | of target | met |', '|---|---:|---:|---:|---|');
  for (const t of result.targets) {
    const met = t.notMeasured !== undefined ? `not measured: ${t.notMeasured}` : t.met ? 'yes' : '**no**';
    lines.push(`| ${t.text} (${t.formula}) | ${t.measured ?? ''} | ${t.op} ${t.bound} | ${t.ofTarget ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}
