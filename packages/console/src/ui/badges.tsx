import type { ReactNode } from 'react';
import type { ReferralsPriority as Priority, State as ReferralState } from '../api/generated.ts';
import { useI18n } from '../i18n/context.tsx';
import { countdown, targetStatus } from '../i18n/format.ts';

// Status is never colour alone: each badge says its state in words (read by screen readers
// with what it is a badge of), the colour only repeats it.

export function StateBadge({ state }: { state: ReferralState }): ReactNode {
  const { t, l, pair } = useI18n();
  return (
    <span className={`badge state-${state.slice(6).toLowerCase()}`}>
      <span className="visually-hidden">{pair(t('col.state'))}</span>
      {l.state[state]}
    </span>
  );
}

export function PriorityBadge({ priority }: { priority: Priority | undefined }): ReactNode {
  const { t, pair } = useI18n();
  const urgent = priority === 'PRIORITY_URGENT';
  return (
    <span className={`badge ${urgent ? 'priority-urgent' : 'priority-standard'}`}>
      <span className="visually-hidden">{pair(t('col.priority'))}</span>
      {t(urgent ? 'status.urgent' : 'status.standard')}
    </span>
  );
}

export function Countdown({ referral, now }: { referral: Parameters<typeof targetStatus>[0]; now: number }): ReactNode {
  const { t, language } = useI18n();
  const status = targetStatus(referral);
  if (status.kind === 'met') return <span className="muted">{t('countdown.met')}</span>;
  if (status.kind === 'missed') return <span className="muted">{t('countdown.missed')}</span>;
  if (status.kind === 'none')
    return (
      <span className="muted" title={t('countdown.none')}>
        —<span className="visually-hidden">{t('countdown.none')}</span>
      </span>
    );
  const { text, overdue } = countdown(status.target, now, language);
  return <span className={overdue ? 'countdown overdue' : 'countdown'}>{text}</span>;
}
