import { useState, type ReactNode, type SyntheticEvent } from 'react';
import type { Loaded } from '../api/hooks.ts';
import { useSubmission } from '../api/hooks.ts';
import { referrals, type ListMessagesResponse, type Referral, type ReferralMessage } from '../api/generated.ts';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { dateTime } from '../i18n/format.ts';
import { label } from '../i18n/labels.ts';
import { ErrorNotice } from '../ui/feedback.tsx';
import { TextField } from '../ui/fields.tsx';

/** The reason for the sender a decline gave: the thread's decline_reason message, if its words are still there. */
export function declineReasonOf(messages: readonly ReferralMessage[] | undefined): ReferralMessage | undefined {
  return messages?.findLast((m) => m.kind === 'decline_reason' && !m.removed);
}

/**
 * The referral's messages between its two agencies (ADR 39): oldest first, each with who wrote
 * it and when, and a box to write to the other agency. Every read is audited; the page reads it
 * again when the live feed says a message was posted.
 */
export function MessageThread({
  referral,
  thread,
}: {
  referral: Referral;
  thread: Loaded<ListMessagesResponse>;
}): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const { user } = useSession();
  const [draft, setDraft] = useState('');
  // One key per message being written: a retry after a lost answer posts it once.
  const [key, setKey] = useState(() => crypto.randomUUID());
  const [sent, setSent] = useState(false);
  const { busy, error, submit } = useSubmission();
  const messages = thread.data?.messages ?? [];
  const closed = referral.state === 'STATE_WITHDRAWN';

  const author = (m: ReferralMessage): string => {
    if (m.authorUser === user.userId && m.authorAgency === user.agencyId) {
      return user.displayName ? `${t('messages.you')} · ${user.displayName}` : t('messages.you');
    }
    const role = m.authorRole ? ` — ${label(l.role, m.authorRole).toLowerCase()}` : '';
    return `${agencyName(m.authorAgency)}${role}`;
  };

  const send = (event: SyntheticEvent) => {
    event.preventDefault();
    setSent(false);
    void submit(async () => {
      await referrals.postMessage({ referralId: referral.id, body: draft }, key);
      setDraft('');
      setKey(crypto.randomUUID());
      setSent(true);
      thread.reload();
    });
  };

  return (
    <section className="card thread" aria-labelledby="thread-title">
      <h2 id="thread-title">{t('messages.title')}</h2>
      <p className="muted">
        {referral.takenOverBy
          ? t('messages.whoTakenOver', {
              from: agencyName(referral.fromAgency),
              to: agencyName(referral.toAgency),
              crisis: agencyName(referral.takenOverBy),
            })
          : t('messages.who', { from: agencyName(referral.fromAgency), to: agencyName(referral.toAgency) })}
      </p>
      {thread.error && <ErrorNotice error={thread.error} onRetry={thread.reload} />}
      {thread.data && messages.length === 0 && <p className="muted">{t('messages.empty')}</p>}
      <ol className="thread-list" aria-live="polite">
        {messages.map((m) => {
          const mine = m.authorAgency === user.agencyId;
          return (
            <li key={m.id} className={mine ? 'message mine' : 'message'}>
              <p className="message-meta">
                <strong>{author(m)}</strong> <time dateTime={m.postedAt}>{dateTime(m.postedAt, language)}</time>
                {m.kind === 'decline_reason' && <span className="badge">{t('messages.declineReason')}</span>}
              </p>
              <p className={m.removed ? 'packet-text muted' : 'packet-text'}>
                {m.removed ? t('messages.removed') : m.body}
              </p>
            </li>
          );
        })}
      </ol>
      {closed ? (
        <p className="muted">{t('messages.closed')}</p>
      ) : (
        <form onSubmit={send} className="subform">
          <TextField
            label={t('messages.compose')}
            hint={t('messages.composeHint')}
            multiline
            required
            field="/body"
            value={draft}
            onChange={(value) => {
              setDraft(value);
              setSent(false);
            }}
          />
          <button type="submit" className="primary" disabled={busy || draft.trim() === ''}>
            {t('messages.send')}
          </button>
          <div role="status" aria-live="polite">
            {sent && <p className="notice notice-ok">{t('messages.sent')}</p>}
          </div>
        </form>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </section>
  );
}
