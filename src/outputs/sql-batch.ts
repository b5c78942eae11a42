/**
 * Concurrent deliveries to one SQL table become one multi-row INSERT.
 *
 * At most `maxInFlight` statements run at once (the pool's size); a row that
 * arrives while they all run waits, and every row waiting when one finishes
 * goes out together in the next statement. Under light load a row is sent at
 * once and alone; under heavy load the rows of many requests share one
 * round trip and one commit (fsync): bench/scenarios/outputs.ts measured the
 * postgresql webhook at 0.33× the log webhook with one INSERT per delivery.
 *
 * A multi-row INSERT is one autocommit statement: all its rows commit or none
 * do, so each row's caller still hears "committed" only once its row is. When
 * a batch fails with a statement error (a constraint one row breaks, an
 * upsert key twice in one batch), its rows are sent again one by one, so only
 * the offending row fails. A connection error fails the batch's rows
 * (UnavailableError: 503, the sender retries).
 */
import { UnavailableError } from '../errors.js';
import type { SqlClient, SqlValue } from '../connections/sql-health.js';

export interface RowStatement {
  /** The INSERT for `rows` rows, each with the same columns; parameters numbered row after row. */
  sql(rows: number): string;
}

/** Bound parameters per statement: PostgreSQL's and MySQL's protocol limit is 65 535. */
const MAX_PARAMS = 65_535;
/** Rows per statement at most: bounds one statement's size (a 64-row batch of 2 KB bodies is ~130 KB). */
const MAX_ROWS = 256;

interface Waiting {
  readonly params: readonly SqlValue[];
  readonly signal: AbortSignal | undefined;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

const timedOut = (): UnavailableError => new UnavailableError('sql statement timed out');

export class InsertBatcher {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxRows: number;

  constructor(private readonly client: SqlClient, private readonly statement: RowStatement, private readonly maxInFlight: number, paramsPerRow: number) {
    this.maxRows = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / Math.max(1, paramsPerRow))));
  }

  /** Resolves once the row committed; rejects as `client.execute` would, or when `signal` aborts first (the row may still commit: at-least-once). */
  insert(params: readonly SqlValue[], signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(timedOut());
    return new Promise<void>((resolve, reject) => {
      const w: Waiting = { params, signal, settled: false, resolve, reject };
      if (signal) {
        w.onAbort = () => this.settle(w, timedOut());
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.queue.push(w);
      // Dispatched after this turn's I/O callbacks: rows of requests read in the same turn (and of the callers a
      // finished batch just released) go out together instead of each taking a free slot alone.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.dispatch);
      }
    });
  }

  private readonly dispatch = (): void => {
    this.scheduled = false;
    this.pump();
  };

  private settle(w: Waiting, err?: unknown): void {
    if (w.settled) return;
    w.settled = true;
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    if (err === undefined) w.resolve();
    else w.reject(err);
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch: Waiting[] = [];
      while (batch.length < this.maxRows && this.queue.length > 0) {
        const w = this.queue.shift() as Waiting;
        // Timed out while waiting: its sender has its 503 already, so the row is not written at all.
        if (!w.settled) batch.push(w);
      }
      if (batch.length === 0) continue;
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: readonly Waiting[]): Promise<void> {
    try {
      await this.client.execute(this.statement.sql(batch.length), batch.length === 1 ? (batch[0] as Waiting).params : batch.flatMap((w) => w.params));
      for (const w of batch) this.settle(w);
    } catch (err) {
      if (batch.length === 1 || err instanceof UnavailableError) {
        for (const w of batch) this.settle(w, err);
        return;
      }
      // One row's statement error failed them all: each row on its own, so only that one fails.
      await Promise.all(batch.map(async (w) => {
        try {
          await this.client.execute(this.statement.sql(1), w.params);
          this.settle(w);
        } catch (rowErr) {
          this.settle(w, rowErr);
        }
      }));
    }
  }
}
