/** The spool's metrics, on cwm's registry: counts per namespace, depth and oldest age sampled at scrape time. */
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const WAITING = ['waiting', 'delayed', 'prioritized', 'active'] as const;

export class SpoolMetrics {
  readonly spooled: Counter<'namespace'>;
  readonly delivered: Counter<'namespace'>;
  readonly retried: Counter<'namespace'>;
  readonly deadLettered: Counter<'namespace'>;
  readonly deferred: Counter<'namespace'>;
  readonly attemptSeconds: Histogram;

  constructor(registry: Registry, queues: () => Queue[]) {
    const registers = [registry];
    this.spooled = new Counter({ name: 'cwm_spool_accepted_total', help: 'Deliveries accepted into the durable spool (202)', labelNames: ['namespace'], registers });
    this.delivered = new Counter({ name: 'cwm_spool_delivered_total', help: 'Spooled deliveries that reached their outputs (this instance)', labelNames: ['namespace'], registers });
    this.retried = new Counter({ name: 'cwm_spool_retried_total', help: 'Spooled delivery attempts that failed and will be retried', labelNames: ['namespace'], registers });
    this.deadLettered = new Counter({ name: 'cwm_spool_dead_lettered_total', help: 'Spooled deliveries that exhausted max_attempts', labelNames: ['namespace'], registers });
    this.deferred = new Counter({ name: 'cwm_spool_deferred_total', help: 'Spooled deliveries put back (not an attempt) because their webhook had SPOOL_WEBHOOK_CONCURRENCY attempts running', labelNames: ['namespace'], registers });
    this.attemptSeconds = new Histogram({ name: 'cwm_spool_attempt_duration_seconds', help: 'One delivery attempt of a spooled delivery', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10], registers });
    // Redis down at scrape time leaves the last values (a failed sample must not fail the scrape).
    const depth: Gauge<'state'> = new Gauge({
      name: 'cwm_spool_depth',
      help: 'Spooled deliveries by state (all spool connections this instance works)',
      labelNames: ['state'],
      registers,
      async collect(): Promise<void> {
        const totals = new Map<string, number>();
        for (const q of queues()) {
          const counts = await q.getJobCounts(...WAITING, 'failed').catch(() => undefined);
          if (counts) for (const [state, n] of Object.entries(counts)) totals.set(state, (totals.get(state) ?? 0) + n);
        }
        for (const [state, n] of totals) depth.set({ state: state === 'failed' ? 'dead' : state }, n);
      },
    });
    const oldest: Gauge = new Gauge({
      name: 'cwm_spool_oldest_age_seconds',
      help: 'Age of the oldest spooled delivery not yet delivered nor dead-lettered',
      registers,
      async collect(): Promise<void> {
        let first = Infinity;
        for (const q of queues()) {
          const jobs = await q.getJobs([...WAITING], 0, 0, true).catch(() => []);
          for (const j of jobs) first = Math.min(first, j.timestamp);
        }
        oldest.set(first === Infinity ? 0 : Math.max(0, (Date.now() - first) / 1000));
      },
    });
  }
}
