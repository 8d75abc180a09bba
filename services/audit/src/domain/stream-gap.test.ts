import { describe, expect, it } from 'vitest';
import { describeGap, findGap, firstAvailable } from './stream-gap.ts';

const extent = (firstSeq: number, lastSeq: number, messages = lastSeq - firstSeq + 1) => ({
  firstSeq,
  lastSeq,
  messages,
});

describe('findGap', () => {
  it('finds none where the stream holds what follows the stored position', () => {
    expect(findGap('S', 0, extent(0, 0, 0), 'unknown')).toBeUndefined(); // nothing read yet
    expect(findGap('S', 5, extent(1, 9), 'same')).toBeUndefined();
    expect(findGap('S', 5, extent(6, 9), 'unknown')).toBeUndefined(); // seq 5 expired, 6 is next
    expect(findGap('S', 5, extent(6, 5, 0), 'unknown')).toBeUndefined(); // purged after reading all
  });

  it('names a stream that ends before the position, one whose first event is past the next expected, and one replaced', () => {
    expect(findGap('S', 5, extent(0, 0, 0), 'unknown')).toMatchObject({ reason: 'behind', firstSeq: 1, lastSeq: 0 });
    expect(findGap('S', 5, extent(1, 3), 'unknown')).toMatchObject({ reason: 'behind', lastStoredSeq: 5 });
    expect(findGap('S', 5, extent(9, 12), 'unknown')).toMatchObject({ reason: 'lost', firstSeq: 9 });
    expect(findGap('S', 5, extent(13, 12, 0), 'unknown')).toMatchObject({ reason: 'lost', firstSeq: 13 });
    expect(findGap('S', 5, extent(1, 9), 'different')).toMatchObject({ reason: 'replaced' });
  });

  it('describes a gap with stream names and numbers only', () => {
    const gap = findGap('REFERRALS', 40, extent(50, 60), 'unknown')!;
    expect(describeGap(gap)).toBe(
      'the log holds stream REFERRALS up to seq 40, but the stream holds seq 50 to 60: seq 41 to 49 were removed before the log read them',
    );
    expect(firstAvailable(extent(0, 0, 0))).toBe(1);
  });
});
