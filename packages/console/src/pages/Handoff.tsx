import { dataCategories, type DataCategory } from '@passage/consent-policy';
import { receiptReference, supportNeeds } from '@passage/vocabulary';
import { useEffect, useId, useRef, useState, type ReactNode, type SyntheticEvent } from 'react';
import { useSubmission } from '../api/hooks.ts';
import type { Language } from '../api/edge.ts';
import {
  consent,
  directory,
  referrals,
  type GrantResponse,
  type MatchResponse,
  type ReferralsPriority as Priority,
  type ReceiptResponse as Receipt,
  type Referral,
} from '../api/generated.ts';
import { useSession } from '../app/session.ts';
import { Link } from '../app/router.tsx';
import { useI18n } from '../i18n/context.tsx';
import { date, dateTime, languageName, matchReason, torontoInstant } from '../i18n/format.ts';
import { captureMethods, consentScript, label, municipalities } from '../i18n/labels.ts';
import { saveFile } from '../ui/download.ts';
import { ErrorNotice, Success } from '../ui/feedback.tsx';
import { Checkbox, CheckboxGroup, SelectField, TextField } from '../ui/fields.tsx';
import {
  consentRequest,
  handoffProblems,
  newHandoffForm,
  offersCrisisLine,
  packet,
  personLanguages,
  presetCategories,
  presets,
  referralRequest,
  sends,
  withLanguage,
  type AfterHoursPlan,
  type HandoffForm,
  type Preset,
} from './handoff-model.ts';

/**
 * The hand-off as one form (docs/adr/0041-phone-hand-off-and-after-hours.md): the situation
 * asked once, an agency among the directory's suggestions, a preset of what is sent, the
 * consent read to the person — its scope is what is sent — and one button that records the
 * consent and sends. After hours, urgent, with the agency closed: the crisis line now and the
 * agency when it opens, under the same consent.
 */
export function Handoff(): ReactNode {
  const { language } = useI18n();
  const [form, setForm] = useState<HandoffForm>(() => newHandoffForm(language, new Date()));
  // The script is read in the language the console is switched to; the worker can still pick the other.
  const shownLanguage = useRef(language);
  useEffect(() => {
    if (shownLanguage.current === language) return;
    shownLanguage.current = language;
    setForm((current) => ({ ...current, scriptLanguage: language }));
  }, [language]);
  const [done, setDone] = useState<{ consent: GrantResponse; sent: Referral[] } | undefined>(undefined);
  // A new screen: the reader starts at its top.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus();
  }, [done]);
  const restart = () => {
    setForm(newHandoffForm(language, new Date()));
    setDone(undefined);
  };
  return (
    <section>
      <HandoffTitle />
      {done ? (
        <Done consent={done.consent} sent={done.sent} scriptLanguage={form.scriptLanguage} onRestart={restart} />
      ) : (
        <HandoffFormView form={form} onChange={setForm} onSent={setDone} />
      )}
    </section>
  );
}

function HandoffTitle(): ReactNode {
  const { t } = useI18n();
  return <h1 tabIndex={-1}>{t('handoff.title')}</h1>;
}

/** Radio buttons under one legend (one value chosen). */
function Radios<T extends string>(props: {
  legend: string;
  name: string;
  options: readonly { value: T; label: ReactNode; hint?: string }[];
  value: T;
  onChange: (value: T) => void;
}): ReactNode {
  const id = useId();
  return (
    <fieldset className="group">
      <legend>{props.legend}</legend>
      {props.options.map((option) => (
        <div className="check" key={option.value}>
          <input
            id={`${id}-${option.value}`}
            type="radio"
            name={props.name}
            value={option.value}
            checked={props.value === option.value}
            aria-describedby={option.hint ? `${id}-${option.value}-hint` : undefined}
            onChange={() => props.onChange(option.value)}
          />
          <label htmlFor={`${id}-${option.value}`}>
            {option.label}
            {option.hint && (
              <span id={`${id}-${option.value}-hint`} className="hint">
                {option.hint}
              </span>
            )}
          </label>
        </div>
      ))}
    </fieldset>
  );
}

function HandoffFormView(props: {
  form: HandoffForm;
  onChange: (update: (current: HandoffForm) => HandoffForm) => void;
  onSent: (done: { consent: GrantResponse; sent: Referral[] }) => void;
}): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const { user, agencies } = useSession();
  const { form, onChange } = props;
  // Functional updates: an answer arriving later (Match) cannot undo what was ticked meanwhile.
  const set = (patch: Partial<HandoffForm>) => onChange((current) => ({ ...current, ...patch }));
  const [match, setMatch] = useState<MatchResponse | undefined>(undefined);
  const [problems, setProblems] = useState<string[]>([]);
  const { busy, error, setError, submit } = useSubmission();
  // One key per distinct request: a retry after a lost answer records and sends nothing twice.
  const keys = useRef(new Map<string, string>());
  const keyFor = (request: unknown) => {
    const body = JSON.stringify(request);
    if (!keys.current.has(body)) keys.current.set(body, crypto.randomUUID());
    return keys.current.get(body)!;
  };

  const find = async () => {
    setError(undefined);
    if (form.needs.length === 0) {
      setProblems([t('consent.pickNeed')]);
      return;
    }
    setProblems([]);
    try {
      const found = await directory
        .match({
          needs: form.needs,
          municipality: form.municipality,
          language: form.language,
          priority: form.priority,
        })
        .fetch();
      setMatch(found);
      const ids = new Set([
        ...(found.candidates ?? []).map((c) => c.agency?.id ?? ''),
        ...(found.passedOver ?? []).map((p) => p.agencyId),
      ]);
      onChange((current) => (ids.has(current.agency) ? current : { ...current, agency: '' }));
    } catch (failure) {
      setError(failure);
    }
  };

  // A candidate always names its agency; the JSON mapping types a message as possibly unset.
  const candidates = (match?.candidates ?? []).flatMap((c) => (c.agency ? [{ ...c, agency: c.agency }] : []));
  // Closed now but otherwise right: the person may still agree to them; the referral waits
  // for opening hours, and when it is urgent the crisis line is offered meanwhile.
  const closedNow = (match?.passedOver ?? []).filter(
    (p) => p.reasons?.length === 1 && p.reasons[0] === 'closed_at_that_hour',
  );
  const crisisLine = [...agencies.values()].find((a) => a.kind === 'crisis_line' && a.id !== user.agencyId)?.id ?? '';
  const situation = { agencyClosedNow: closedNow.some((p) => p.agencyId === form.agency), crisisLine };
  const offer = offersCrisisLine(form, situation);
  const planned = sends(form, situation);
  const needsSummary = form.needs.map((n) => label(l.need, n)).join(', ');
  const sections = packet(form, needsSummary);
  const categories = sections.map((s) => s.category);
  const recipients = planned.map((s) => s.to);
  const agencyLabel = agencyName(form.agency);

  const send = async (event: SyntheticEvent) => {
    event.preventDefault();
    const missing = handoffProblems(form, new Date());
    setProblems(missing.map((key) => t(key)));
    if (missing.length > 0) return;
    await submit(async () => {
      const grant = consentRequest(form, recipients, categories);
      const granted = await consent.grant(grant, keyFor(grant));
      const sent: Referral[] = [];
      for (const next of planned) {
        const request = referralRequest(form, next, sections, {
          subjectRef: granted.subjectRef,
          fromAgency: user.agencyId,
          linkedReferralId: sent[0]?.id,
        });
        sent.push((await referrals.send(request, keyFor(request))).referral!);
      }
      props.onSent({ consent: granted, sent });
    });
  };

  const agencyOptions = [
    ...candidates.map((c) => ({
      value: c.agency.id,
      label: language === 'fr' ? c.agency.nameFr : c.agency.nameEn,
      hint: (c.reasons ?? []).map((r) => matchReason(r, language)).join(' · '),
    })),
    ...closedNow.map((p) => ({ value: p.agencyId, label: agencyName(p.agencyId), hint: t('consent.closedNowReason') })),
  ];
  return (
    <form onSubmit={(e) => void send(e)} noValidate>
      {/* Nothing can change while the consent is recorded and the referral sent: what is recorded is what was read. */}
      <fieldset className="bare" disabled={busy}>
        <div className="card">
          <h2>{t('consent.situation')}</h2>
          <CheckboxGroup
            legend={t('consent.needs')}
            name="needs"
            columns
            options={supportNeeds.map((need) => ({ value: need, label: l.need[need] }))}
            selected={form.needs}
            onChange={(needs) => set({ needs })}
          />
          <div className="row">
            <SelectField
              label={t('consent.municipality')}
              name="municipality"
              value={form.municipality}
              onChange={(municipality) => set({ municipality })}
              options={[
                { value: '', label: '—' },
                ...municipalities.map((m) => ({ value: m, label: l.municipality[m] })),
              ]}
            />
            <SelectField
              label={t('consent.personLanguage')}
              hint={t('phone.languageHint')}
              name="language"
              value={form.language}
              onChange={(code) => onChange((current) => withLanguage(current, code))}
              options={personLanguages.map((code) => ({ value: code, label: languageName(code, language) }))}
            />
            <SelectField<Priority>
              label={t('consent.priority')}
              name="priority"
              value={form.priority}
              onChange={(priority) => set({ priority })}
              options={[
                { value: 'PRIORITY_STANDARD', label: t('status.standard') },
                { value: 'PRIORITY_URGENT', label: t('status.urgent') },
              ]}
            />
          </div>
          <button type="button" onClick={() => void find()}>
            {t('consent.find')}
          </button>
        </div>

        <div className="card">
          <h2>{t('referral.to')}</h2>
          {!match && <p className="hint">{t('consent.findFirst')}</p>}
          {match?.afterHours && <p className="notice">{t('consent.afterHours')}</p>}
          {match && agencyOptions.length === 0 && <p className="notice">{t('consent.noCandidates')}</p>}
          {agencyOptions.length > 0 && (
            <Radios
              legend={t('phone.agency')}
              name="agency"
              options={agencyOptions}
              value={form.agency}
              onChange={(agency) => set({ agency })}
            />
          )}
          {offer && (
            <div className="notice" role="status">
              <p>
                <strong>{t('phone.closedUrgent', { agency: agencyLabel })}</strong>
              </p>
              <Radios<AfterHoursPlan>
                legend={t('phone.afterHoursPlan')}
                name="afterHoursPlan"
                value={form.afterHoursPlan}
                onChange={(afterHoursPlan) => set({ afterHoursPlan })}
                options={[
                  {
                    value: 'crisis_line_and_agency',
                    label: t('phone.planBoth', { crisis: agencyName(crisisLine), agency: agencyLabel }),
                    hint: t('phone.planBothHint'),
                  },
                  { value: 'agency_only', label: t('phone.planAgencyOnly', { agency: agencyLabel }) },
                ]}
              />
            </div>
          )}
        </div>

        <div className="card">
          <h2>{t('referral.packet')}</h2>
          <Radios<Preset>
            legend={t('phone.preset')}
            name="preset"
            value={form.preset}
            onChange={(preset) => set({ preset })}
            options={presets.map((preset) => ({
              value: preset,
              label: t(`phone.preset.${preset}`),
              hint: presetCategories[preset].map((c) => l.category[c]).join(' · '),
            }))}
          />
          {presetCategories[form.preset].map((category: DataCategory) => (
            <TextField
              key={category}
              name={`packet-${category}`}
              label={category === 'needs' ? `${l.category[category]} (${t('common.optional')})` : l.category[category]}
              hint={category === 'needs' ? t('phone.needsHint') : l.categoryHelp[category]}
              multiline
              value={form.texts[category] ?? ''}
              onChange={(text) =>
                onChange((current) => ({ ...current, texts: { ...current.texts, [category]: text } }))
              }
            />
          ))}
          <Checkbox
            name="doNotContact"
            label={t('consent.doNotContact')}
            hint={t('consent.doNotContactHelp')}
            checked={form.doNotContact}
            onChange={(doNotContact) => set({ doNotContact })}
          />
          <Checkbox
            name="interpreterNeeded"
            label={t('referral.interpreterNeeded')}
            hint={t('phone.interpreterHint', { language: languageName(form.language, language) })}
            checked={form.interpreterNeeded}
            onChange={(interpreterNeeded) => set({ interpreterNeeded })}
          />
        </div>

        <div className="card script" lang={form.scriptLanguage}>
          <h2>{t('consent.scriptTitle')}</h2>
          {consentScript[form.scriptLanguage].map((paragraph) => (
            <p key={paragraph}>{paragraph}</p>
          ))}
        </div>
        <div className="card">
          <p className="scope-summary">
            {recipients.length > 0
              ? t('phone.scope', {
                  agencies: recipients.map((id) => agencyName(id)).join(` ${t('phone.and')} `),
                  categories: categories.map((c) => label(l.category, c).toLowerCase()).join(', '),
                  date: /^\d{4}-\d{2}-\d{2}$/.test(form.expires)
                    ? date(torontoInstant(form.expires, '12:00').toISOString(), language)
                    : form.expires,
                })
              : t('phone.scopeEmpty')}
          </p>
          {dataCategories.some((c) => !categories.includes(c)) && categories.length > 0 && (
            <p className="muted">
              {t('referral.notOffered', {
                list: dataCategories
                  .filter((c) => !categories.includes(c))
                  .map((c) => label(l.category, c).toLowerCase())
                  .join(', '),
              })}
            </p>
          )}
          <div className="row">
            <SelectField<Language>
              label={t('consent.scriptLanguage')}
              value={form.scriptLanguage}
              onChange={(scriptLanguage) => set({ scriptLanguage })}
              options={[
                { value: 'en', label: languageName('en', language) },
                { value: 'fr', label: languageName('fr', language) },
              ]}
            />
            <SelectField
              label={t('consent.method')}
              name="method"
              value={form.method}
              hint={
                form.method === 'CAPTURE_METHOD_VIA_INTERPRETER'
                  ? t('phone.interpreterLanguage', { language: languageName(form.language, language) })
                  : undefined
              }
              onChange={(method) => set({ method })}
              options={captureMethods.map((m) => ({ value: m, label: l.captureMethod[m] }))}
            />
            <TextField
              label={t('consent.expiry')}
              type="date"
              name="expires"
              value={form.expires}
              onChange={(expires) => set({ expires })}
              required
            />
            <TextField
              label={`${t('consent.receiptName')} (${t('common.optional')})`}
              name="receiptName"
              value={form.receiptName}
              onChange={(receiptName) => set({ receiptName })}
            />
          </div>
        </div>
      </fieldset>
      <Problems problems={problems} />
      {error !== undefined && <ErrorNotice error={error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {planned.length > 1 ? t('phone.sendBoth') : t('phone.send')}
        </button>
      </div>
    </form>
  );
}

function Problems({ problems }: { problems: readonly string[] }): ReactNode {
  const { t } = useI18n();
  if (problems.length === 0) return null;
  return (
    <div className="notice notice-error" role="alert">
      <p>{t('common.fieldProblems')}</p>
      <ul>
        {problems.map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    </div>
  );
}

function Done(props: {
  consent: GrantResponse;
  /** In the order sent: the crisis line first after hours, the chosen agency last. */
  sent: readonly Referral[];
  scriptLanguage: Language;
  onRestart: () => void;
}): ReactNode {
  const { t, language, agencyName } = useI18n();
  const [receiptLanguage, setReceiptLanguage] = useState<Language>(props.scriptLanguage);
  // The discreet variant (ADR 35): no service named, for a person who may be searched.
  const [discreet, setDiscreet] = useState(false);
  const [receipts, setReceipts] = useState<Partial<Record<string, Receipt>>>(
    props.consent.receipt?.language ? { [`${props.consent.receipt.language}|plain`]: props.consent.receipt } : {},
  );
  const [error, setError] = useState<unknown>(undefined);
  const variant = (lang: Language, quiet: boolean) => `${lang}|${quiet ? 'discreet' : 'plain'}`;
  const receipt = receipts[variant(receiptLanguage, discreet)];

  const choose = async (next: Language, quiet: boolean) => {
    setReceiptLanguage(next);
    setDiscreet(quiet);
    if (receipts[variant(next, quiet)]) return;
    try {
      const fetched = await consent
        .receipt({ consentId: props.consent.consentId, language: next, ...(quiet ? { discreet: true } : {}) })
        .fetch();
      setReceipts((all) => ({ ...all, [variant(next, quiet)]: fetched }));
    } catch (failure) {
      setError(failure);
    }
  };
  const download = () => {
    if (!receipt?.text) return;
    saveFile(
      // The discreet file carries no signed JSON (it names the agencies) and no name of ours.
      discreet
        ? `receipt-${receiptReference(props.consent.consentId)}.txt`
        : `passage-receipt-${receiptReference(props.consent.consentId)}-${receiptLanguage}.txt`,
      discreet ? `${receipt.text}\n` : `${receipt.text}\n\n${receipt.receiptJws ?? ''}\n`,
      'text/plain;charset=utf-8',
    );
  };

  return (
    <div>
      <Success>
        {props.sent.map((referral) => (
          <div key={referral.id}>
            <p>
              {referral.clockStartsAt
                ? t('phone.sentAtOpening', {
                    agency: agencyName(referral.toAgency),
                    opens: dateTime(referral.clockStartsAt, language),
                  })
                : t('review.sent', { agency: agencyName(referral.toAgency) })}
            </p>
            {referral.acknowledgeDueAt && (
              <p>{t('review.due', { due: dateTime(referral.acknowledgeDueAt, language) })}</p>
            )}
          </div>
        ))}
      </Success>
      <div className="card receipt">
        <h2>{t('receipt.title')}</h2>
        <SelectField<Language>
          label={t('receipt.language')}
          value={receiptLanguage}
          onChange={(next) => void choose(next, discreet)}
          options={[
            { value: 'en', label: languageName('en', language) },
            { value: 'fr', label: languageName('fr', language) },
          ]}
        />
        <Checkbox
          label={t('receipt.discreet')}
          hint={t('receipt.discreetHint')}
          name="discreet"
          checked={discreet}
          onChange={(quiet) => void choose(receiptLanguage, quiet)}
        />
        {error !== undefined && <ErrorNotice error={error} />}
        {receipt?.text && (
          <pre className="receipt-text" lang={receiptLanguage} tabIndex={0}>
            {receipt.text}
          </pre>
        )}
        <div className="actions no-print">
          <button type="button" onClick={() => window.print()}>
            {t('receipt.print')}
          </button>
          <button type="button" onClick={download} disabled={!receipt?.text}>
            {t('receipt.download')}
          </button>
        </div>
      </div>
      <div className="actions no-print">
        {props.sent.slice(0, -1).map((referral) => (
          <Link key={referral.id} to={`/referrals/${referral.id}`} className="button">
            {t('phone.viewOther', { agency: agencyName(referral.toAgency) })}
          </Link>
        ))}
        <Link to={`/referrals/${props.sent.at(-1)!.id}`} className="button">
          {t('receipt.view')}
        </Link>
        <button type="button" className="primary" onClick={props.onRestart}>
          {t('receipt.another')}
        </button>
      </div>
    </div>
  );
}
