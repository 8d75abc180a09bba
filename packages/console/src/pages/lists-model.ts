import { useCallback, useMemo, useState } from 'react';
import { ApiError, get, type Read } from '../api/client.ts';
import { useGet } from '../api/hooks.ts';
import { identity, type Colleague, type Referral } from '../api/generated.ts';

/**
 * A list the service gives a page at a time (ADR 38): the first page as useGet keeps it (a
 * reload, say from the live feed, starts again from the top), the next ones appended by
 * "Load more" with the cursor of the page before.
 */
export function usePagedReferrals(
  read: (cursor: string) => Read<{ referrals?: readonly Referral[]; nextCursor?: string }> | null,
) {
  const first = useGet(read(''));
  const [more, setMore] = useState<{ referrals: Referral[]; next: string; from: unknown }>({
    referrals: [],
    next: '',
    from: undefined,
  });
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<ApiError | undefined>(undefined);
  // Pages loaded after another first page belong to another list: drop them.
  const extra = more.from === first.data ? more : { referrals: [], next: '', from: first.data };
  const next = extra.referrals.length > 0 || extra.next ? extra.next : (first.data?.nextCursor ?? '');
  const loadMore = useCallback(async () => {
    const request = read(next);
    if (!next || !request) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await get<{ referrals?: Referral[]; nextCursor?: string }>(request.path);
      setMore({
        referrals: [...extra.referrals, ...(page.referrals ?? [])],
        next: page.nextCursor ?? '',
        from: first.data,
      });
    } catch (error) {
      setMoreError(error instanceof ApiError ? error : new ApiError(0, 'unknown', String(error)));
    } finally {
      setLoadingMore(false);
    }
  }, [read, next, extra.referrals, first.data]);
  const referrals = useMemo(
    () => (first.data ? [...(first.data.referrals ?? []), ...extra.referrals] : undefined),
    [first.data, extra.referrals],
  );
  return {
    referrals,
    error: first.error ?? moreError,
    loading: first.loading,
    reload: first.reload,
    hasMore: Boolean(next),
    loadingMore,
    loadMore,
  };
}

/**
 * The people of the caller's own agency (PeopleService.ListColleagues): whom a referral can be
 * assigned to, and the names a timeline shows for user ids. Another agency's people stay ids.
 */
export function useColleagues(): { colleagues: readonly Colleague[]; nameOf: (userId: string) => string | undefined } {
  const loaded = useGet(identity.listColleagues({}));
  const colleagues = useMemo(() => loaded.data?.colleagues ?? [], [loaded.data]);
  const nameOf = useCallback(
    (userId: string) => colleagues.find((c) => c.userId === userId)?.displayName,
    [colleagues],
  );
  return { colleagues, nameOf };
}

/** The workers a referral can go to: the colleagues who work referrals (not auditors or admins). */
export function assignable(colleagues: readonly Colleague[]): Colleague[] {
  const workers = new Set(['officer', 'crisis_counsellor', 'intake_worker', 'supervisor']);
  return colleagues
    .filter((c) => (c.roles ?? []).some((role) => workers.has(role)))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}
