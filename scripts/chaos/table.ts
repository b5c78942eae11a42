/** Plain-text tables for the chaos report (also pasted into docs/chaos.md as Markdown). */
import { passed, type Tally } from './tally.js';
import type { ScenarioResult } from './scenario.js';

function markdown(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const TALLY_COLUMNS = ['destination', 'deliveries', 'attempts', '2xx', '503', 'conn err', 'other', 'retried', 'gave up', 'found', 'found w/o 2xx', 'lost', 'dup', 'dup w/o retry'];

function tallyCells(t: Tally): string[] {
  return [t.label, t.deliveries, t.attempts, t.acked, t.answered503, t.connErrors, t.otherStatus, t.retried, t.gaveUp, t.found, t.foundUnacked, t.lost, t.duplicates, t.duplicatesWithoutRetry].map(String);
}

export function scenarioPassed(r: ScenarioResult): boolean {
  return r.error === undefined && r.tallies.length > 0 && r.tallies.every((t) => passed(t, r.atLeastOnce));
}

export function renderScenario(r: ScenarioResult): string {
  const out = [`### ${r.name}: ${r.title} (${r.seconds.toFixed(1)} s)`, ''];
  if (r.tallies.length > 0) out.push(markdown(TALLY_COLUMNS, r.tallies.map(tallyCells)), '');
  for (const note of r.notes) out.push(`- ${note}`);
  for (const t of r.tallies) if (t.lost > 0) out.push(`- LOST in ${t.label} (first ids): ${t.lostSample.join(', ')}`);
  if (r.error !== undefined) out.push(`- ERROR: ${r.error}`);
  return out.join('\n');
}

export function renderSummary(results: readonly ScenarioResult[]): string {
  const sum = (r: ScenarioResult, f: (t: Tally) => number): string => String(r.tallies.reduce((n, t) => n + f(t), 0));
  const rows = results.map((r) => [r.name, `${r.seconds.toFixed(1)} s`, sum(r, (t) => t.deliveries), sum(r, (t) => t.acked), sum(r, (t) => t.retried), sum(r, (t) => t.lost), sum(r, (t) => t.duplicates), sum(r, (t) => t.duplicatesWithoutRetry), scenarioPassed(r) ? 'pass' : 'FAIL']);
  return markdown(['scenario', 'time', 'deliveries', '2xx', 'retried', 'lost', 'dup', 'dup w/o retry', 'result'], rows);
}
