/**
 * Hand-off times as histograms, so a report over a million referrals adds up a few thousand
 * counters instead of sorting a million durations. Durations under an hour are kept to the
 * minute; longer ones in buckets 2 % wide. Percentiles interpolate between bucket values as
 * PostgreSQL's percentile_cont does between data points. The same bucketing exists in SQL
 * (audit.duration_bucket, in the migrations); a test holds the two equal.
 */
const minuteBuckets = 60;
const growth = 1.02;
const hour = 3_600;
export const histogramBuckets = minuteBuckets + 520; // 1.02^520 hours ≈ 3.4 years

export function bucketOf(seconds: number): number {
  if (!(seconds > 0)) return 0;
  if (seconds < hour) return Math.floor(seconds / 60);
  // The nudge puts a duration that is exactly a bucket edge in the same bucket in SQL and here.
  const bucket = minuteBuckets + Math.floor(Math.log(seconds / hour) / Math.log(growth) + 1e-9);
  return Math.min(bucket, histogramBuckets - 1);
}

/** The duration a bucket stands for: its minute, or the middle of its 2 % band. */
export function bucketSeconds(bucket: number): number {
  if (bucket < minuteBuckets) return bucket * 60;
  return hour * growth ** (bucket - minuteBuckets) * Math.sqrt(growth);
}

/** Counts by bucket; absent buckets are empty. */
export type Histogram = Map<number, number>;

export function addTo(target: Histogram, source: Histogram | readonly number[]): void {
  for (const [bucket, count] of source.entries()) if (count) target.set(bucket, (target.get(bucket) ?? 0) + count);
}

export function histogramCount(histogram: Histogram): number {
  let total = 0;
  for (const count of histogram.values()) total += count;
  return total;
}

/**
 * percentile_cont over the bucket values: rank p·(n−1), linear between neighbours. With
 * `valueOf` the identity, a histogram keyed by exact durations gives the exact percentile.
 */
export function percentile(histogram: Histogram, p: number, valueOf: (key: number) => number = bucketSeconds): number {
  const n = histogramCount(histogram);
  if (n === 0) return 0;
  const rank = p * (n - 1);
  const lower = Math.floor(rank);
  const buckets = [...histogram.keys()].sort((a, b) => a - b);
  const valueAt = (index: number): number => {
    let seen = 0;
    for (const bucket of buckets) {
      seen += histogram.get(bucket)!;
      if (index < seen) return valueOf(bucket);
    }
    return NaN;
  };
  const low = valueAt(lower);
  return rank === lower ? low : low + (rank - lower) * (valueAt(lower + 1) - low);
}
