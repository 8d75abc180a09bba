import { useState, type SyntheticEvent, type ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import { useGet, useLiveFeed, useNow, useSubmission } from '../api/hooks.ts';
import { num } from '../api/edge.ts';
import {
  referrals,
  type Colleague,
  type GetResponse,
  type ListMessagesResponse,
  type Referral,
  type Transition,
} from '../api/generated.ts';
import { useSession } from '../app/session.ts';
import { Link } from '../app/router.tsx';
import { useI18n } from '../i18n/context.tsx';
import { dateTime, languageName, torontoInstant } from '../i18n/format.ts';
import { closeOutcomes, contactMethods, declineReasons, label, reasonLabel, withdrawReasons } from '../i18n/labels.ts';
import { Countdown, PriorityBadge, StateBadge } from '../ui/badges.tsx';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { SelectField, TextField } from '../ui/fields.tsx';
import { RecordWithdrawal } from './AmendConsent.tsx';
import { ConsentCard } from './ConsentCard.tsx';
import { DeclineFollowUp } from './Outbox.tsx';
import { declineSuggestions } from './decline-model.ts';
import { MessageThread, declineReasonOf } from './MessageThread.tsx';
import type { Loaded as LoadedRead } from '../api/hooks.ts';
import { assignable, useColleagues } from './lists-model.ts';

/** One referral: the do-not-contact flag first, the facts, the packet (withheld parts named), the timeline, the next steps. */
export function ReferralDetail({ referralId }: { referralId: string }): ReactNode {
  const { t } = useI18n();
  const view = useGet(referrals.get({ referralId }));
  const timeline = useGet(view.data ? referrals.timeline({ referralId }) : null);
  // The thread between the two agencies: read with the referral, again when a message is posted.
  const thread = useGet(view.data ? referrals.listMessages({ referralId }) : null);
  // Every read of a referral is audited as a read of the person's data: after a step of our
  // own the referral it returns is shown, and only a change made elsewhere is read again.
  const [latest, setLatest] = useState<Referral | undefined>(undefined);
  const read = view.data?.referral;
  const known = read ? (latest && num(latest.version) > num(read.version) ? latest : read) : undefined;
  const changed = (next?: Referral) => {
    timeline.reload();
    // A decline may have posted its reason for the sender.
    if (next?.state === 'STATE_DECLINED') thread.reload();
    // A declined or withdrawn referral is no longer the recipient's to read: read it again.
    if (!next || next.state === 'STATE_DECLINED' || next.state === 'STATE_WITHDRAWN') view.reload();
    else setLatest(next);
  };
  useLiveFeed((event) => {
    if (event.referralId !== referralId) return;
    if (event.type === 'referral.v1.message_posted') {
      thread.reload();
      return;
    }
    timeline.reload();
    if (!known || event.version > num(known.version)) view.reload();
  });

  if (view.error) {
    const refused = view.error instanceof ApiError && [403, 404, 400].includes(view.error.status);
    return (
      <section>
        <h1 tabIndex={-1}>{refused ? t('detail.refused') : t('detail.title')}</h1>
        {refused ? (
          <div className="notice notice-error" role="alert">
            <p>{t('detail.refusedWhy')}</p>
          </div>
        ) : (
          <ErrorNotice error={view.error} onRetry={view.reload} />
        )}
      </section>
    );
  }
  if (!view.data || !known) return <Loading />;
  return (
    <Loaded
      view={{ ...view.data, referral: known }}
      transitions={timeline.data?.transitions ?? []}
      thread={thread}
      refreshing={view.loading}
      onChanged={changed}
    />
  );
}

function Loaded(props: {
  view: GetResponse & { readonly referral: Referral };
  transitions: readonly Transition[];
  thread: LoadedRead<ListMessagesResponse>;
  /** A newer version is on its way: steps wait for it rather than fail on a stale version. */
  refreshing: boolean;
  onChanged: (next?: Referral) => void;
}): ReactNode {
  const { t, l, language, agencyName, pair } = useI18n();
  const { user } = useSession();
  const { referral } = props.view;
  const now = useNow();
  const packet = props.view.packet ?? [];
  // The sender's own copy of what it sent is sealed for the recipient: say so, not "no consent".
  const sender = referral.fromAgency === user.agencyId && referral.toAgency !== user.agencyId;
  // Taken over by the crisis line: the original recipient reads none of the packet since.
  const takenFromUs = Boolean(referral.takenOverBy) && referral.toAgency === user.agencyId;
  const declineReason = referral.state === 'STATE_DECLINED' ? declineReasonOf(props.thread.data?.messages) : undefined;
  const { colleagues, nameOf } = useColleagues();
  const personName = (userId: string) => nameOf(userId) ?? userId;
  // The timeline names the worker where the console knows them (the agency's own people); the
  // other agency's as its role, as before.
  const who = (step: Transition) => {
    const role = step.actorRole ? label(l.role, step.actorRole).toLowerCase() : '';
    const name = step.actorAgency === user.agencyId ? nameOf(step.actorUser) : undefined;
    if (name) return `${name}${role ? ` (${role})` : ''}, ${agencyName(step.actorAgency)}`;
    return `${agencyName(step.actorAgency)}${role ? ` (${role})` : ''}`;
  };
  // An amendment made on this page (ADR 36): the consent card reads the consent again.
  const [amendments, setAmendments] = useState(0);
  return (
    <section>
      <h1 tabIndex={-1}>
        {pair(t('detail.title'), `${agencyName(referral.fromAgency)} → ${agencyName(referral.toAgency)}`)}
      </h1>
      {referral.doNotContact && (
        <div className="dnc-banner" role="alert">
          {t('detail.dnc')}
        </div>
      )}
      {referral.escalated && !referral.takenOverBy && <p className="notice">{t('detail.escalated')}</p>}
      {referral.takenOverBy && (
        <p className="notice takeover-banner">
          {t('takeover.banner', {
            agency: agencyName(referral.takenOverBy),
            time: dateTime(referral.takenOverAt, language),
          })}
        </p>
      )}
      <div className="referral-head">
        {referral.reference && <span className="reference">{referral.reference}</span>}
        <PriorityBadge priority={referral.priority} />
        <StateBadge state={referral.state} />
        <Countdown referral={referral} now={now} />
      </div>
      <div className="columns-2">
        <div>
          <h2>{t('detail.facts')}</h2>
          <dl className="facts card">
            {referral.reference && (
              <>
                <dt>{t('lists.reference')}</dt>
                <dd className="reference">{referral.reference}</dd>
              </>
            )}
            <dt>{t('col.from')}</dt>
            <dd>{agencyName(referral.fromAgency)}</dd>
            <dt>{t('col.to')}</dt>
            <dd>{agencyName(referral.toAgency)}</dd>
            <dt>{t('col.needs')}</dt>
            <dd>{(referral.needs ?? []).map((n) => label(l.need, n)).join(', ')}</dd>
            <dt>{t('detail.language')}</dt>
            <dd>
              {languageName(referral.language ?? '', language)}
              {referral.interpreterNeeded ? ` — ${t('detail.interpreter').toLowerCase()}` : ''}
            </dd>
            <dt>{t('col.sent')}</dt>
            <dd>{dateTime(referral.sentAt, language)}</dd>
            {referral.acknowledgeDueAt && (
              <>
                <dt>{t('detail.ackDue')}</dt>
                <dd>{dateTime(referral.acknowledgeDueAt, language)}</dd>
              </>
            )}
            {referral.acceptDueAt && (
              <>
                <dt>{t('detail.acceptDue')}</dt>
                <dd>{dateTime(referral.acceptDueAt, language)}</dd>
              </>
            )}
            {referral.clockStartsAt && (
              <>
                <dt>{t('phone.clockStarts')}</dt>
                <dd>{dateTime(referral.clockStartsAt, language)}</dd>
              </>
            )}
            {referral.contactMethod && (
              <>
                <dt>{t('detail.contactMethod')}</dt>
                <dd>
                  {label(l.contactMethod, referral.contactMethod)} — {dateTime(referral.contactAt, language)}
                </dd>
              </>
            )}
            {referral.reason && (
              <>
                <dt>{referral.state === 'STATE_CLOSED' ? t('close.outcome') : t('col.reason')}</dt>
                <dd>{reasonLabel(l, referral.reason)}</dd>
              </>
            )}
            {declineReason && (
              <>
                <dt>{t('messages.declineReason')}</dt>
                <dd className="packet-text">{declineReason.body}</dd>
              </>
            )}
            {props.view.note && (
              <>
                <dt>{t('detail.note')}</dt>
                <dd className="packet-text">{props.view.note}</dd>
              </>
            )}
            {referral.previousReferralId && (
              <>
                <dt>{t('detail.previous')}</dt>
                <dd>{t('detail.reference', { id: referral.previousReferralId.slice(0, 8) })}</dd>
              </>
            )}
            {referral.linkedReferralId && (
              <>
                <dt>{t('phone.linked')}</dt>
                <dd>
                  {/* The sender is a party to both; each recipient to its own only. */}
                  {referral.fromAgency === user.agencyId ? (
                    <Link to={`/referrals/${referral.linkedReferralId}`}>
                      {t('phone.linkedTo', { agency: agencyName(referral.linkedAgency) })}
                    </Link>
                  ) : (
                    t('phone.linkedTo', { agency: agencyName(referral.linkedAgency) })
                  )}{' '}
                  {/* Its end: ids of a pair sent in the same minute share their first, time-ordered digits. */}—{' '}
                  {t('detail.reference', { id: referral.linkedReferralId.slice(-8) })}
                </dd>
              </>
            )}
          </dl>
        </div>
        <div>
          <h2>{t('detail.packet')}</h2>
          <dl className="packet card">
            {packet.map((section) => (
              <div key={section.category} className={section.withheld ? 'fact-group withheld' : 'fact-group'}>
                <dt>{label(l.category, section.category)}</dt>
                <dd className="packet-text">
                  {!section.withheld
                    ? section.content
                    : sender
                      ? t('detail.sentSealed', { agency: agencyName(referral.takenOverBy || referral.toAgency) })
                      : takenFromUs
                        ? t('takeover.withheld')
                        : t('detail.withheld')}
                </dd>
              </div>
            ))}
          </dl>
        </div>
      </div>
      <Actions
        referral={referral}
        covered={packet.some((section) => !section.withheld)}
        consentIds={props.view.consentIds ?? []}
        refreshing={props.refreshing}
        onChanged={props.onChanged}
        onAmended={() => setAmendments((n) => n + 1)}
      />
      <MessageThread referral={referral} thread={props.thread} />
      {(referral.takenOverBy || referral.toAgency) === user.agencyId && (
        <Assignment
          referral={referral}
          refreshing={props.refreshing}
          onChanged={props.onChanged}
          colleagues={colleagues}
          nameOf={nameOf}
        />
      )}
      {referral.fromAgency === user.agencyId && referral.subjectRef && (
        <ConsentCard key={amendments} subjectRef={referral.subjectRef} onRevoked={() => props.onChanged()} />
      )}
      {/* An agency the consent names records the person's withdrawal where it reads under it (ADR 36). */}
      {referral.toAgency === user.agencyId &&
        referral.fromAgency !== user.agencyId &&
        (props.view.consentIds ?? []).length > 0 &&
        !['STATE_WITHDRAWN', 'STATE_DECLINED', 'STATE_CLOSED'].includes(referral.state) && (
          <RecordWithdrawal consentIds={props.view.consentIds ?? []} onRecorded={() => props.onChanged()} />
        )}
      <h2>{t('detail.timeline')}</h2>
      <ol className="timeline">
        {props.transitions.map((step, i) => (
          <li key={`${step.at ?? ''}-${i}`}>
            <time dateTime={step.at}>{dateTime(step.at, language)}</time> <strong>{label(l.event, step.event)}</strong>{' '}
            — {who(step)}
            {step.assignedUser && step.reason !== 'claimed'
              ? ` — ${t(step.event === 'unassigned' ? 'lists.takenFrom' : 'lists.assignedToWhom', { name: personName(step.assignedUser) })}`
              : ''}
            {step.reason && step.reason !== 'claimed' ? ` — ${reasonLabel(l, step.reason)}` : ''}
            {step.reason === 'claimed' ? ` — ${t('lists.claimed')}` : ''}
          </li>
        ))}
      </ol>
    </section>
  );
}

type Action = 'acknowledge' | 'accept' | 'decline' | 'contact' | 'close' | 'withdraw' | 'takeOver';

/** Who may take an escalated referral over: a crisis line's counsellors and supervisors, not a party. */
const takeOverRoles = ['crisis_counsellor', 'supervisor'];

function available(
  referral: Referral,
  user: { readonly agencyId: string; readonly roles: readonly string[] },
  crisisLine: boolean,
  covered: boolean,
): Action[] {
  const agencyId = user.agencyId;
  // The crisis line acts as the recipient once it took the referral over; the original recipient no longer does.
  const recipient = (referral.takenOverBy || referral.toAgency) === agencyId;
  const sender = referral.fromAgency === agencyId;
  const actions: Action[] = [];
  const state = referral.state;
  if (
    crisisLine &&
    covered &&
    referral.escalated &&
    !referral.takenOverBy &&
    !recipient &&
    !sender &&
    referral.toAgency !== agencyId &&
    (state === 'STATE_SENT' || state === 'STATE_ACKNOWLEDGED') &&
    user.roles.some((role) => takeOverRoles.includes(role))
  )
    actions.push('takeOver');
  if (recipient) {
    if (state === 'STATE_SENT') actions.push('acknowledge');
    if (state === 'STATE_SENT' || state === 'STATE_ACKNOWLEDGED') actions.push('accept', 'decline');
    if (state === 'STATE_ACCEPTED') actions.push('contact');
    if (state === 'STATE_ACCEPTED' || state === 'STATE_IN_CONTACT') actions.push('close');
  }
  if (sender && ['STATE_SENT', 'STATE_ACKNOWLEDGED', 'STATE_ACCEPTED', 'STATE_IN_CONTACT'].includes(state))
    actions.push('withdraw');
  return actions;
}

/** The next steps this agency may take; the ones that need words open a small form first. */
function Actions({
  referral,
  covered,
  consentIds,
  refreshing,
  onChanged,
  onAmended,
}: {
  referral: Referral;
  /** The person's consent lets this agency read some of the packet now. */
  covered: boolean;
  consentIds: readonly string[];
  refreshing: boolean;
  onChanged: (next?: Referral) => void;
  onAmended: () => void;
}): ReactNode {
  const { t, l, agencyName } = useI18n();
  const { user, agencies } = useSession();
  const [open, setOpen] = useState<Action | undefined>(undefined);
  const [done, setDone] = useState('');
  const { busy, error, submit: call } = useSubmission();
  const [fields, setFields] = useState({
    reason: '',
    note: '',
    noteForSender: '',
    suggestedAgency: '',
    method: 'phone',
    at: '',
    outcome: 'services_provided',
  });
  const set = (patch: Partial<typeof fields>) => setFields((f) => ({ ...f, ...patch }));
  const crisisLine = agencies.get(user.agencyId)?.kind === 'crisis_line';
  const actions = available(referral, user, crisisLine, covered);
  const takenFromUs = Boolean(referral.takenOverBy) && referral.toAgency === user.agencyId;

  const run = async (action: Action) => {
    const version = referral.version;
    const referralId = referral.id;
    const steps: Record<Action, () => Promise<{ referral?: Referral }>> = {
      acknowledge: () => referrals.acknowledge({ referralId, expectedVersion: version }),
      accept: () => referrals.accept({ referralId, expectedVersion: version }),
      decline: () =>
        referrals.decline({
          referralId,
          expectedVersion: version,
          reason: fields.reason || 'no_capacity',
          ...(fields.note ? { note: fields.note } : {}),
          ...(fields.noteForSender ? { noteForSender: fields.noteForSender } : {}),
          suggestedAgency: fields.suggestedAgency,
        }),
      contact: () =>
        referrals.recordContact({
          referralId,
          expectedVersion: version,
          method: fields.method,
          // The time typed is Toronto time (the network's), whatever the computer's zone.
          at: (fields.at ? torontoInstant(fields.at.slice(0, 10), fields.at.slice(11, 16)) : new Date()).toISOString(),
        }),
      close: () =>
        referrals.closeReferral({
          referralId,
          expectedVersion: version,
          outcome: fields.outcome,
          ...(fields.note ? { note: fields.note } : {}),
        }),
      withdraw: () =>
        referrals.withdraw({ referralId, expectedVersion: version, reason: fields.reason || 'person_withdrew' }),
      takeOver: () => referrals.takeOver({ referralId, expectedVersion: version }),
    };
    await call(
      async () => {
        const { referral: next } = await steps[action]();
        if (!next) return;
        setDone(action === 'takeOver' ? t('takeover.done') : t('detail.done', { state: l.state[next.state] }));
        setOpen(undefined);
        onChanged(next);
      },
      (failure) => {
        // Someone else moved it on meanwhile: show where it stands now.
        if (failure instanceof ApiError && ['aborted', 'failed_precondition'].includes(failure.code)) onChanged();
      },
    );
  };

  const submit = (action: Action) => (event: SyntheticEvent) => {
    event.preventDefault();
    void run(action);
  };
  const needsForm = (action: Action) => ['decline', 'contact', 'close', 'withdraw', 'takeOver'].includes(action);
  const others = declineSuggestions(agencies.values(), referral);

  return (
    <div className="card actions-card">
      <h2>{t('detail.actions')}</h2>
      {/* Always present, so a screen reader announces what is put in it. */}
      <div role="status" aria-live="polite">
        {done && <p className="notice notice-ok">{done}</p>}
      </div>
      {takenFromUs && <p className="muted">{t('takeover.originalNoActions')}</p>}
      {actions.length === 0 && referral.state !== 'STATE_DECLINED' && !takenFromUs && (
        <p className="muted">{t('detail.noActions')}</p>
      )}
      {referral.fromAgency === user.agencyId && (
        <DeclineFollowUp referral={referral} inline consentIds={consentIds} onAmended={onAmended} />
      )}
      <div className="actions">
        {actions.map((action) => (
          <button
            key={action}
            type="button"
            className={action === 'decline' || action === 'withdraw' ? '' : 'primary'}
            aria-expanded={needsForm(action) ? open === action : undefined}
            disabled={busy || refreshing}
            onClick={() => {
              setDone('');
              if (needsForm(action)) setOpen(open === action ? undefined : action);
              else void run(action);
            }}
          >
            {action === 'takeOver' ? t('takeover.action') : t(`action.${action}`)}
          </button>
        ))}
      </div>
      {open === 'takeOver' && (
        <form onSubmit={submit('takeOver')} className="subform">
          <p>{t('takeover.confirm', { agency: agencyName(referral.toAgency) })}</p>
          <button type="submit" className="primary" disabled={busy || refreshing}>
            {t('takeover.confirmSubmit')}
          </button>
        </form>
      )}
      {open === 'decline' && (
        <form onSubmit={submit('decline')} className="subform">
          <SelectField
            label={t('decline.reason')}
            value={fields.reason || 'no_capacity'}
            onChange={(reason) => set({ reason })}
            options={declineReasons.map((r) => ({ value: r, label: l.declineReason[r] }))}
          />
          <SelectField
            label={t('decline.suggest')}
            value={fields.suggestedAgency}
            onChange={(suggestedAgency) => set({ suggestedAgency })}
            options={[
              { value: '', label: t('common.none') },
              ...others.map((a) => ({ value: a.id, label: agencyName(a.id) })),
            ]}
          />
          <TextField
            label={t('messages.noteForSender')}
            hint={t('messages.noteForSenderHint', { agency: agencyName(referral.fromAgency) })}
            multiline
            field="/noteForSender"
            value={fields.noteForSender}
            onChange={(noteForSender) => set({ noteForSender })}
          />
          <TextField
            label={t('decline.note')}
            hint={t('messages.internalNoteHint')}
            multiline
            field="/note"
            value={fields.note}
            onChange={(note) => set({ note })}
          />
          <button type="submit" className="primary" disabled={busy || refreshing}>
            {t('action.decline')}
          </button>
        </form>
      )}
      {open === 'contact' && (
        <form onSubmit={submit('contact')} className="subform">
          <SelectField
            label={t('contact.method')}
            value={fields.method}
            onChange={(method) => set({ method })}
            options={contactMethods.map((m) => ({ value: m, label: l.contactMethod[m] }))}
          />
          <TextField label={t('contact.at')} type="datetime-local" value={fields.at} onChange={(at) => set({ at })} />
          <button type="submit" className="primary" disabled={busy || refreshing}>
            {t('action.contact')}
          </button>
        </form>
      )}
      {open === 'close' && (
        <form onSubmit={submit('close')} className="subform">
          <SelectField
            label={t('close.outcome')}
            value={fields.outcome}
            onChange={(outcome) => set({ outcome })}
            options={closeOutcomes.map((o) => ({ value: o, label: l.closeOutcome[o] }))}
          />
          <TextField
            label={t('close.note')}
            hint={t('messages.internalNoteHint')}
            multiline
            value={fields.note}
            onChange={(note) => set({ note })}
          />
          <button type="submit" className="primary" disabled={busy || refreshing}>
            {t('action.close')}
          </button>
        </form>
      )}
      {open === 'withdraw' && (
        <form onSubmit={submit('withdraw')} className="subform">
          <SelectField
            label={t('withdraw.reason')}
            value={fields.reason || 'person_withdrew'}
            onChange={(reason) => set({ reason })}
            options={withdrawReasons.map((r) => ({ value: r, label: l.withdrawReason[r] }))}
          />
          <button type="submit" className="primary" disabled={busy || refreshing}>
            {t('action.withdraw')}
          </button>
        </form>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}

/**
 * Who has this referral in the receiving agency (ADR 38): anyone may claim it while nobody
 * has it, the one who has it may give it up, a supervisor assigns it to any worker.
 */
function Assignment(props: {
  referral: Referral;
  refreshing: boolean;
  onChanged: (next?: Referral) => void;
  colleagues: readonly Colleague[];
  nameOf: (userId: string) => string | undefined;
}): ReactNode {
  const { t, pair } = useI18n();
  const { user } = useSession();
  const { referral } = props;
  const supervisor = user.roles.includes('supervisor');
  const open = ['STATE_SENT', 'STATE_ACKNOWLEDGED', 'STATE_ACCEPTED', 'STATE_IN_CONTACT'].includes(referral.state);
  const [choice, setChoice] = useState('');
  const { busy, error, submit } = useSubmission();
  const current = referral.assignedUser ?? '';
  const assign = (assignedUser: string) =>
    void submit(
      async () => {
        const { referral: next } = await referrals.assign({
          referralId: referral.id,
          assignedUser,
          expectedVersion: referral.version,
        });
        setChoice('');
        props.onChanged(next);
      },
      (failure) => {
        if (failure instanceof ApiError && ['aborted', 'failed_precondition'].includes(failure.code)) props.onChanged();
      },
    );
  const workers = assignable(props.colleagues);
  return (
    <div className="card assignment">
      <h2>{t('lists.assignment')}</h2>
      <p>{current ? pair(t('lists.assignedTo'), props.nameOf(current) ?? current) : t('lists.unassigned')}</p>
      {open && (
        <div className="actions">
          {!current && (
            <button
              type="button"
              className="primary"
              disabled={busy || props.refreshing}
              onClick={() => assign(user.userId)}
            >
              {t('lists.claim')}
            </button>
          )}
          {current && (current === user.userId || supervisor) && (
            <button type="button" disabled={busy || props.refreshing} onClick={() => assign('')}>
              {current === user.userId ? t('lists.release') : t('lists.unassign')}
            </button>
          )}
        </div>
      )}
      {open && supervisor && (
        <form
          className="subform row"
          onSubmit={(event) => {
            event.preventDefault();
            if (choice) assign(choice);
          }}
        >
          <SelectField
            label={t('lists.assignTo')}
            value={choice}
            onChange={setChoice}
            options={[
              { value: '', label: t('lists.chooseWorker') },
              ...workers.filter((w) => w.userId !== current).map((w) => ({ value: w.userId, label: w.displayName })),
            ]}
          />
          <button type="submit" disabled={!choice || busy || props.refreshing}>
            {t('lists.assign')}
          </button>
        </form>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
