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
  /** Loads what is needed to total these keys over windows up to `longestDays` ending with `day`. */
  read(keys: readonly string[], day: number, longestDays: number): Promise<CounterReader>;
}

export interface CounterReader {
  /** The key's total over the last `windowDays` days ending with the reader's day (inclusive). */
  total(key: string, windowDays: number): number;
}
