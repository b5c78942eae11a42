/** Tight HTTP polling for latency figures: one keep-alive socket, no fetch machinery in the measured loop. */
import { Agent, request } from 'node:http';

export class Probe {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(private readonly baseUrl: string) {}

  /** POSTs a tiny JSON body and resolves the status. */
  post(path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(this.baseUrl + path, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': 2 } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end('{}');
    });
  }

  /** Milliseconds from now until POST `path` first answers 200, and how many POSTs that took. */
  async untilServed(path: string, timeoutMs = 10_000): Promise<{ ms: number; polls: number }> {
    const started = performance.now();
    for (let polls = 1; ; polls++) {
      if ((await this.post(path)) === 200) return { ms: performance.now() - started, polls };
      if (performance.now() - started > timeoutMs) throw new Error(`POST ${path} did not answer 200 within ${timeoutMs} ms`);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
