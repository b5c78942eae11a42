/** What operators and senders see of a running cwm: webhook statuses, /health, /metrics. Polls, never sleeps. */
import type { CwmProcess } from './cwm-process.js';
import { waitFor } from './ports.js';

export async function webhookStatus(cwm: CwmProcess, path: string): Promise<number> {
  const res = await cwm.post(path, { probe: true });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until POST `path` answers `status`; on timeout the last status seen is in the error. */
export async function waitForStatus(cwm: CwmProcess, path: string, status: number, timeoutMs = 20_000): Promise<void> {
  let last = 0;
  await waitFor(async () => (last = await webhookStatus(cwm, path)) === status, timeoutMs, `POST ${path} → ${status}`, 25).catch((err: Error) => {
    throw new Error(`${err.message} (last status ${last})`);
  });
}

export interface Health {
  status: number;
  etcd: string | undefined;
}

export async function health(cwm: CwmProcess): Promise<Health> {
  const res = await fetch(`${cwm.baseUrl}/health`);
  const body = (await res.json()) as { components?: { etcd?: string } };
  return { status: res.status, etcd: body.components?.etcd };
}

export async function readyStatus(cwm: CwmProcess): Promise<number> {
  const res = await fetch(`${cwm.baseUrl}/ready`);
  await res.arrayBuffer();
  return res.status;
}

/** One sample of a Prometheus metric from /metrics, e.g. metric(cwm, 'cwm_config_invalid_total', 'kind="webhook"'); 0 when absent. */
export async function metric(cwm: Pick<CwmProcess, 'baseUrl'>, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${cwm.baseUrl}/metrics`)).text();
  const series = labels === '' ? name : `${name}{${labels}}`;
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    if (space > 0 && line.slice(0, space) === series) return Number(line.slice(space + 1));
  }
  return 0;
}

function matches(line: Record<string, unknown>, msg: string, fields: Record<string, unknown>): boolean {
  return line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v);
}

/** Whether cwm has logged a line with this message (and, optionally, matching fields) so far. */
export function logged(cwm: CwmProcess, msg: string, fields: Record<string, unknown> = {}): boolean {
  return cwm.logs.some((l) => matches(l, msg, fields));
}

/** The first log line with this message; waits for it, since stdout arrives independently of HTTP answers. */
export function waitForLog(cwm: CwmProcess, msg: string, fields: Record<string, unknown> = {}, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return waitFor(() => cwm.logs.find((l) => matches(l, msg, fields)), timeoutMs, `log "${msg}"`);
}
