/**
 * Transaction conflicts. In DynamoDB two transactions that touch one item at the same time
 * conflict: one is cancelled (`TransactionCanceledException`, reason `TransactionConflict`)
 * and a plain write racing a transaction fails with `TransactionConflictException`. A burst
 * on one lot is exactly that: many reports counting into the same counter items. Nothing of
 * a cancelled transaction was written, so trying again is safe; it is retried with full
 * jitter (a random wait up to an exponentially growing cap), so racing writers spread out.
 * DynamoDB Local serialises transactions and never reports conflicts: tests inject them.
 */
export const CONFLICT_RETRY = { attempts: 10, baseMs: 25, capMs: 2_000 } as const;

/** Why a transaction was cancelled, one code per item in order (`None` for items not at fault); undefined for any other error. */
export const cancellationReasons = (error: unknown): string[] | undefined =>
  (error as { name?: string })?.name === 'TransactionCanceledException'
    ? ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code ?? 'None')
    : undefined;

/**
 * A conflict worth retrying: cancelled by a conflict and by nothing else. A cancellation that
 * also failed a condition is an answer (already counted, key taken), left to the caller.
 */
export function isTransactionConflict(error: unknown): boolean {
  const reasons = cancellationReasons(error);
  if (reasons) return reasons.includes('TransactionConflict') && !reasons.includes('ConditionalCheckFailed');
  return (error as { name?: string })?.name === 'TransactionConflictException';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before try `attempt + 1`: full jitter, a random time up to an exponentially growing cap. */
export const jitteredBackoff = (attempt: number, options: { baseMs: number; capMs: number } = CONFLICT_RETRY) =>
  sleep(Math.random() * Math.min(options.capMs, options.baseMs * 2 ** attempt));

/** Runs `operation`, again after a jittered wait while it fails with a transaction conflict. */
export async function retryingConflicts<T>(operation: () => Promise<T>, options: { attempts: number; baseMs: number; capMs: number } = CONFLICT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= options.attempts) throw error;
      await jitteredBackoff(attempt, options);
    }
  }
}
