/** What a benchmark scenario is and what it reports: named figures, each with an optional goal. */

export interface BenchContext {
  /** A few seconds in all: proves every scenario still runs, not how fast it is. */
  readonly smoke: boolean;
  /** Scratch folder for this run (logs, config, profiles). */
  readonly workDir: string;
  /** When set, cwm processes run with --cpu-prof and write their profiles here. */
  readonly profileDir?: string;
  /** Progress lines go to stderr so stdout holds only the table. */
  log(message: string): void;
}

export interface Goal {
  readonly op: '<=' | '>=';
  readonly target: number;
}

export interface Figure {
  readonly measure: string;
  readonly value: number;
  readonly unit: string;
  readonly goal?: Goal;
}

export interface Scenario {
  readonly name: string;
  /** What the scenario does, one line (printed under the table and in docs). */
  readonly description: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly figures: readonly Figure[];
  /** Set when the scenario failed to run: it then has no figures. */
  readonly error?: string;
}

export function goalMet(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  return f.goal.op === '<=' ? f.value <= f.goal.target : f.value >= f.goal.target;
}

function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function renderTable(results: readonly ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'measure', 'value', 'unit', 'goal', 'met']];
  for (const r of results) {
    if (r.error) rows.push([r.scenario, 'FAILED TO RUN', r.error.split('\n')[0] ?? '', '', '', 'no']);
    for (const f of r.figures) {
      const met = goalMet(f);
      rows.push([r.scenario, f.measure, formatValue(f.value), f.unit, f.goal ? `${f.goal.op} ${f.goal.target}` : '', met === undefined ? '' : met ? 'yes' : 'NO']);
    }
  }
  const [header = [], ...body] = rows;
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => '| ' + row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ') + ' |';
  const sep = '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|';
  return [line(header), sep, ...body.map(line)].join('\n');
}
