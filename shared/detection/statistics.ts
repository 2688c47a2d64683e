/** Pure statistics for the detection rules. No I/O, no clock. */

const LOG_FACTORIALS: number[] = [0, 0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1]! + Math.log(i));
  return LOG_FACTORIALS[n]!;
}

/** P(X ≥ k) for X ~ Poisson(lambda), summed over the upper tail for precision at small p. */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  let logTerm = -lambda + k * Math.log(lambda) - logFactorial(k);
  let sum = 0;
  for (let i = k; i < k + 10_000; i++) {
    const term = Math.exp(logTerm);
    sum += term;
    if (term < sum * 1e-12 && i > lambda) break;
    logTerm += Math.log(lambda) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

export interface TwoByTwo {
  /** This product, this category. */
  readonly a: number;
  /** This product, other categories. */
  readonly b: number;
  /** Other products, this category. */
  readonly c: number;
  /** Other products, other categories. */
  readonly d: number;
}

/**
 * Proportional reporting ratio: the product's share of the category against the share
 * among all other products. Infinite when no other product has the category at all.
 */
export function prr({ a, b, c, d }: TwoByTwo): number {
  if (a + b === 0) return 0;
  const own = a / (a + b);
  if (c + d === 0) return own > 0 ? Number.POSITIVE_INFINITY : 0;
  const others = c / (c + d);
  if (others === 0) return own > 0 ? Number.POSITIVE_INFINITY : 0;
  return own / others;
}

/** Pearson's chi-squared with Yates' continuity correction for a 2×2 table. */
export function chiSquaredYates({ a, b, c, d }: TwoByTwo): number {
  const n = a + b + c + d;
  const denominator = (a + b) * (c + d) * (a + c) * (b + d);
  if (denominator === 0) return 0;
  const diff = Math.max(0, Math.abs(a * d - b * c) - n / 2);
  return (n * diff * diff) / denominator;
}
