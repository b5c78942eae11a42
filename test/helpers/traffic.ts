/**
 * Steady traffic for fault tests: `concurrency` loops, each sending one
 * delivery after another with a fresh delivery id, recording id, status and
 * latency, until stopped.
 */
export interface Outcome {
  readonly id: string;
  readonly status: number;
  readonly ms: number;
  readonly at: number;
}

export interface Traffic {
  readonly outcomes: readonly Outcome[];
  stop(): Promise<void>;
}

export function startTraffic(send: (id: string) => Promise<Response>, opts: { concurrency: number; prefix: string }): Traffic {
  const outcomes: Outcome[] = [];
  let running = true;
  let seq = 0;
  const loop = async (): Promise<void> => {
    while (running) {
      const id = `${opts.prefix}-${++seq}`;
      const started = performance.now();
      let status: number;
      try {
        const res = await send(id);
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0; // no answer at all (connection refused/reset)
      }
      outcomes.push({ id, status, ms: performance.now() - started, at: Date.now() });
    }
  };
  const loops = Array.from({ length: opts.concurrency }, () => loop());
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
