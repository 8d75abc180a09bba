import { useState, type ReactNode, type SyntheticEvent } from 'react';
import { useNow } from '../api/hooks.ts';
import { referrals, type State } from '../api/generated.ts';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { torontoInstant } from '../i18n/format.ts';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { SelectField, TextField } from '../ui/fields.tsx';
import { useColleagues, usePagedReferrals } from './lists-model.ts';
import { LoadMore, pageSize, ReferralList } from './referral-list.tsx';

const states: State[] = [
  'STATE_SENT',
  'STATE_ACKNOWLEDGED',
  'STATE_ACCEPTED',
  'STATE_IN_CONTACT',
  'STATE_CLOSED',
  'STATE_DECLINED',
  'STATE_WITHDRAWN',
];

interface Query {
  readonly reference: string;
  readonly receiptReference: string;
  readonly state: State | '';
  /** Toronto dates, yyyy-mm-dd; both days included. */
  readonly from: string;
  readonly to: string;
}

const empty: Query = { reference: '', receiptReference: '', state: '', from: '', to: '' };

/** The day after a yyyy-mm-dd date. */
function nextDay(date: string): string {
  const day = new Date(`${date}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() + 1);
  return day.toISOString().slice(0, 10);
}

/**
 * Find a referral the agency sent or received: by its short reference, by the reference on the
 * person's consent receipt, by state and by the days it was sent (Toronto days, both included).
 */
export function Search(): ReactNode {
  const { t, l } = useI18n();
  const { user } = useSession();
  const { nameOf } = useColleagues();
  const now = useNow();
  const [form, setForm] = useState<Query>(empty);
  const [query, setQuery] = useState<Query | undefined>(undefined);
  const set = (patch: Partial<Query>) => setForm((f) => ({ ...f, ...patch }));
  const results = usePagedReferrals((cursor) =>
    query
      ? referrals.search({
          pageSize,
          cursor,
          reference: query.reference.trim(),
          receiptReference: query.receiptReference.trim(),
          states: query.state ? [query.state] : [],
          ...(query.from ? { sentFrom: torontoInstant(query.from, '00:00').toISOString() } : {}),
          ...(query.to ? { sentTo: torontoInstant(nextDay(query.to), '00:00').toISOString() } : {}),
        })
      : null,
  );
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setQuery({ ...form });
  };
  const found = results.referrals ?? [];
  return (
    <section>
      <h1 tabIndex={-1}>{t('lists.searchTitle')}</h1>
      <p className="muted">{t('lists.searchIntro')}</p>
      <form className="card search-form" role="search" onSubmit={submit}>
        <div className="columns-2">
          <TextField
            label={t('lists.reference')}
            hint={t('lists.referenceHint')}
            value={form.reference}
            onChange={(reference) => set({ reference })}
          />
          <TextField
            label={t('lists.receiptReference')}
            hint={t('lists.receiptReferenceHint')}
            value={form.receiptReference}
            onChange={(receiptReference) => set({ receiptReference })}
          />
          <SelectField<State | ''>
            label={t('lists.state')}
            value={form.state}
            onChange={(state) => set({ state })}
            options={[
              { value: '', label: t('lists.anyState') },
              ...states.map((s) => ({ value: s, label: l.state[s] })),
            ]}
          />
          <div className="row">
            <TextField label={t('lists.sentFrom')} type="date" value={form.from} onChange={(from) => set({ from })} />
            <TextField label={t('lists.sentTo')} type="date" value={form.to} onChange={(to) => set({ to })} />
          </div>
        </div>
        <div className="actions">
          <button type="submit" className="primary">
            {t('lists.search')}
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(empty);
              setQuery(undefined);
            }}
          >
            {t('lists.clear')}
          </button>
        </div>
      </form>
      {results.error && <ErrorNotice error={results.error} onRetry={results.reload} />}
      {query && !results.referrals && results.loading && <Loading />}
      <div role="status" aria-live="polite">
        {query && results.referrals && (
          <p>
            {found.length === 0
              ? t('lists.noResults')
              : t('lists.results', { n: results.hasMore ? `${found.length}+` : found.length })}
          </p>
        )}
      </div>
      {query && results.referrals && (
        <ReferralList referrals={found} side="search" agencyId={user.agencyId} now={now} nameOf={nameOf} />
      )}
      <LoadMore hasMore={results.hasMore} busy={results.loadingMore} onMore={() => void results.loadMore()} />
    </section>
  );
}
