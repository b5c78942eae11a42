/**
 * Equal read-only values that many compiled webhooks hold (a credential
 * header set, the OpenAPI description of their checks, the chain settings),
 * kept once and shared. Bounded: past `limit` distinct values a new one is
 * returned without being kept, so config churn cannot grow a table without end.
 */
export class SharedValues<T> {
  private readonly table = new Map<string, T>();

  constructor(private readonly limit = 1000) {}

  /** The value kept under `key`, or `make()` (kept while the table has room). `key` must determine the value. */
  get(key: string, make: () => T): T {
    const kept = this.table.get(key);
    if (kept !== undefined) return kept;
    const value = make();
    if (this.table.size < this.limit) this.table.set(key, value);
    return value;
  }
}
