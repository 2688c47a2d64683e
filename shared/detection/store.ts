/**
 * The counter-store port of the detection engine. DynamoDB in production
 * (`dynamo-store.ts`), in memory for unit tests and backtests (`memory-store.ts`).
 * Counters are per key and per day; a report is counted at most once, however often it is
 * delivered.
 */
export interface CounterStore {
  /**
   * Adds one to each key's counter for `day`, once per report id: returns false (and
   * changes nothing) when this report was counted before.
   */
  count(reportId: string, keys: readonly string[], day: number): Promise<boolean>;
  /**
   * For each key, its total over each window of `w` days ending with `day` (inclusive):
   * `result[key][i]` is the total over `windows[i]` days.
   */
  windowTotals(keys: readonly string[], day: number, windows: readonly number[]): Promise<Record<string, number[]>>;
}
