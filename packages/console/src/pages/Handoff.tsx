import { dataCategories, purposes, type DataCategory } from '@passage/consent-policy';
import { supportNeeds } from '@passage/vocabulary';
import {
  useEffect,
  useRef,
  useState,
  type Dispatch,
  type ReactNode,
  type SetStateAction,
  type SyntheticEvent,
} from 'react';
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
import { dateTime, languageName, matchReason } from '../i18n/format.ts';
import { captureMethods, consentScript, label, municipalities } from '../i18n/labels.ts';
import { saveFile } from '../ui/download.ts';
import { ErrorNotice, Success } from '../ui/feedback.tsx';
import { Checkbox, CheckboxGroup, SelectField, TextField } from '../ui/fields.tsx';
import {
  consentProblems,
  consentRequest,
  newConsentForm,
  newReferralForm,
  referralRequest,
  type ConsentForm,
  type ReferralForm,
} from './handoff-model.ts';

type Step = 'consent' | 'referral' | 'review' | 'done';
const personLanguages = ['en', 'fr', 'es', 'pt', 'zh', 'ar', 'pa', 'tl', 'uk', 'ko', 'vi', 'fa', 'so'] as const;

/** The guided hand-off: consent read to the person, the referral, review and send, the receipt. */
export function Handoff(): ReactNode {
  const { t, language } = useI18n();
  const [step, setStep] = useState<Step>('consent');
  const [consentForm, setConsentForm] = useState<ConsentForm>(() => newConsentForm(language, new Date()));
  // The script is read in the language the console is switched to; the worker can still pick the other.
  const shownLanguage = useRef(language);
  useEffect(() => {
    if (shownLanguage.current === language) return;
    shownLanguage.current = language;
    setConsentForm((current) => ({ ...current, scriptLanguage: language }));
  }, [language]);
  const [consent, setConsent] = useState<GrantResponse | undefined>(undefined);
  const [referralForm, setReferralForm] = useState<ReferralForm | undefined>(undefined);
  const [sent, setSent] = useState<Referral | undefined>(undefined);

  const restart = () => {
    setConsentForm(newConsentForm(language, new Date()));
    setConsent(undefined);
    setReferralForm(undefined);
    setSent(undefined);
    setStep('consent');
  };

  const steps: { id: Step; label: string }[] = [
    { id: 'consent', label: t('handoff.step.consent') },
    { id: 'referral', label: t('handoff.step.referral') },
    { id: 'review', label: t('handoff.step.review') },
  ];
  const at = steps.findIndex((s) => s.id === step);
  // A new step is a new screen: the reader starts at its top.
  const firstStep = useRef(true);
  useEffect(() => {
    if (firstStep.current) firstStep.current = false;
    else document.getElementById('main')?.focus();
  }, [step]);
  return (
    <section>
      <h1 tabIndex={-1}>{t('handoff.title')}</h1>
      <ol className="steps" aria-label={t('handoff.steps')}>
        {steps.map((s, i) => (
          <li key={s.id} className={i === at ? 'current' : i < at || step === 'done' ? 'past' : ''}>
            {s.label}
            {i === at && <span className="visually-hidden"> ({t('handoff.current')})</span>}
          </li>
        ))}
      </ol>
      {step === 'consent' && (
        <ConsentStep
          form={consentForm}
          onChange={setConsentForm}
          onRecorded={(granted) => {
            setConsent(granted);
            setReferralForm(newReferralForm(consentForm));
            setStep('referral');
          }}
        />
      )}
      {step === 'referral' && consent && referralForm && (
        <ReferralStep
          consentForm={consentForm}
          consent={consent}
          form={referralForm}
          onChange={setReferralForm}
          onNext={() => setStep('review')}
        />
      )}
      {step === 'review' && consent && referralForm && (
        <ReviewStep
          consentForm={consentForm}
          consent={consent}
          form={referralForm}
          onBack={() => setStep('referral')}
          onSent={(referral) => {
            setSent(referral);
            setStep('done');
          }}
        />
      )}
      {step === 'done' && consent && sent && (
        <Done consent={consent} referral={sent} scriptLanguage={consentForm.scriptLanguage} onRestart={restart} />
      )}
    </section>
  );
}

function ConsentStep(props: {
  form: ConsentForm;
  onChange: Dispatch<SetStateAction<ConsentForm>>;
  onRecorded: (consent: GrantResponse) => void;
}): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const { form, onChange } = props;
  // Functional updates: an answer arriving later (Match) cannot undo what was ticked meanwhile.
  const set = (patch: Partial<ConsentForm>) => onChange((current) => ({ ...current, ...patch }));
  const [match, setMatch] = useState<MatchResponse | undefined>(undefined);
  const [problems, setProblems] = useState<string[]>([]);
  const { busy, error, setError, submit: record } = useSubmission();
  // One key per distinct consent: a retry after a lost answer cannot record it twice; a changed form is a new request.
  const attempt = useRef({ body: '', key: '' });

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
          language: form.personLanguage,
          priority: form.priority,
        })
        .fetch();
      setMatch(found);
      const ids = new Set([
        ...(found.candidates ?? []).map((c) => c.agency?.id ?? ''),
        ...(found.passedOver ?? []).map((p) => p.agencyId),
      ]);
      onChange((current) => ({ ...current, recipients: current.recipients.filter((id) => ids.has(id)) }));
    } catch (failure) {
      setError(failure);
    }
  };

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    const missing = consentProblems(form, new Date());
    setProblems(missing.map((key) => t(key)));
    if (missing.length > 0) return;
    const request = consentRequest(form);
    const body = JSON.stringify(request);
    if (attempt.current.body !== body) attempt.current = { body, key: crypto.randomUUID() };
    const { key } = attempt.current;
    await record(async () => props.onRecorded(await consent.grant(request, key)));
  };

  // A candidate always names its agency; the JSON mapping types a message as possibly unset.
  const candidates = (match?.candidates ?? []).flatMap((c) => (c.agency ? [{ ...c, agency: c.agency }] : []));
  // Closed now but otherwise right: the person may still agree to them; the referral waits
  // for opening hours and its targets count in open time (packages/sla).
  const closedNow = (match?.passedOver ?? []).filter(
    (p) => p.reasons?.length === 1 && p.reasons[0] === 'closed_at_that_hour',
  );
  const toggleRecipient = (id: string, on: boolean) =>
    onChange((current) => ({
      ...current,
      recipients: on ? [...current.recipients, id] : current.recipients.filter((r) => r !== id),
    }));
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      {/* Nothing can change while the consent is being recorded: what is recorded is what was read. */}
      <fieldset className="bare" disabled={busy}>
        <div className="card script" lang={form.scriptLanguage}>
          <h2>{t('consent.scriptTitle')}</h2>
          {consentScript[form.scriptLanguage].map((paragraph) => (
            <p key={paragraph}>{paragraph}</p>
          ))}
        </div>
        <SelectField<Language>
          label={t('consent.scriptLanguage')}
          value={form.scriptLanguage}
          onChange={(scriptLanguage) => set({ scriptLanguage })}
          options={[
            { value: 'en', label: languageName('en', language) },
            { value: 'fr', label: languageName('fr', language) },
          ]}
        />

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
              name="personLanguage"
              value={form.personLanguage}
              onChange={(personLanguage) => set({ personLanguage })}
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
          <fieldset className="group">
            <legend>{t('consent.recipients')}</legend>
            {!match && <p className="hint">{t('consent.findFirst')}</p>}
            {match && <p className="hint">{t('consent.recipientsHelp')}</p>}
            {match?.afterHours && <p className="notice">{t('consent.afterHours')}</p>}
            {match && candidates.length === 0 && <p className="notice">{t('consent.noCandidates')}</p>}
            {candidates.map((candidate) => (
              <Checkbox
                key={candidate.agency.id}
                name="recipients"
                label={language === 'fr' ? candidate.agency.nameFr : candidate.agency.nameEn}
                hint={(candidate.reasons ?? []).map((r) => matchReason(r, language)).join(' · ')}
                checked={form.recipients.includes(candidate.agency.id)}
                onChange={(on) => toggleRecipient(candidate.agency.id, on)}
              />
            ))}
            {closedNow.length > 0 && (
              <>
                <p className="hint">{t('consent.closedNow')}</p>
                {closedNow.map((passed) => (
                  <Checkbox
                    key={passed.agencyId}
                    name="recipients"
                    label={agencyName(passed.agencyId)}
                    hint={t('consent.closedNowReason')}
                    checked={form.recipients.includes(passed.agencyId)}
                    onChange={(on) => toggleRecipient(passed.agencyId, on)}
                  />
                ))}
              </>
            )}
          </fieldset>
          <CheckboxGroup
            legend={t('consent.purposes')}
            name="purposes"
            options={purposes.map((p) => ({ value: p, label: l.purpose[p], hint: l.purposeHelp[p] }))}
            selected={form.purposes}
            onChange={(chosen) => set({ purposes: chosen })}
          />
          <CheckboxGroup
            legend={t('consent.categories')}
            name="categories"
            options={dataCategories.map((c) => ({ value: c, label: l.category[c], hint: l.categoryHelp[c] }))}
            selected={form.categories}
            onChange={(categories) => set({ categories })}
          />
          <Checkbox
            name="doNotContact"
            label={t('consent.doNotContact')}
            hint={t('consent.doNotContactHelp')}
            checked={form.doNotContact}
            onChange={(doNotContact) => set({ doNotContact })}
          />
          <TextField
            label={t('consent.safeContact')}
            hint={t('consent.safeContactHelp')}
            multiline
            name="safeContact"
            value={form.safeContact}
            onChange={(safeContact) => set({ safeContact })}
          />
          <div className="row">
            <TextField
              label={t('consent.expiry')}
              type="date"
              name="expires"
              value={form.expires}
              onChange={(expires) => set({ expires })}
              required
            />
            <SelectField
              label={t('consent.method')}
              name="method"
              value={form.method}
              onChange={(method) => set({ method })}
              options={captureMethods.map((m) => ({ value: m, label: l.captureMethod[m] }))}
            />
            {form.method === 'CAPTURE_METHOD_VIA_INTERPRETER' && (
              <TextField
                label={t('consent.interpreter')}
                name="interpreterLanguage"
                value={form.interpreterLanguage}
                onChange={(interpreterLanguage) => set({ interpreterLanguage })}
                required
              />
            )}
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
          {t('consent.record')}
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

function receiptReference(consentId: string): string {
  return consentId.replace(/-/g, '').slice(-8).toUpperCase();
}

function ReferralStep(props: {
  consentForm: ConsentForm;
  consent: GrantResponse;
  form: ReferralForm;
  onChange: Dispatch<SetStateAction<ReferralForm | undefined>>;
  onNext: () => void;
}): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const { form, consentForm } = props;
  const set = (patch: Partial<ReferralForm>) =>
    props.onChange((current) => (current ? { ...current, ...patch } : current));
  const allowed = consentForm.categories;
  const notOffered = dataCategories.filter((c) => !allowed.includes(c));
  const [problems, setProblems] = useState<string[]>([]);
  const next = (event: SyntheticEvent) => {
    event.preventDefault();
    const missing = form.needs.length === 0 ? [t('consent.pickNeed')] : [];
    setProblems(missing);
    if (missing.length === 0) props.onNext();
  };
  return (
    <form onSubmit={next} noValidate>
      <Success>{t('consent.recorded', { ref: receiptReference(props.consent.consentId) })}</Success>
      <div className="card">
        <SelectField
          label={t('referral.to')}
          name="toAgency"
          value={form.toAgency}
          onChange={(toAgency) => set({ toAgency })}
          options={consentForm.recipients.map((id) => ({ value: id, label: agencyName(id) }))}
        />
        <CheckboxGroup
          legend={t('referral.needs')}
          name="referralNeeds"
          columns
          options={supportNeeds.map((need) => ({ value: need, label: l.need[need] }))}
          selected={form.needs}
          onChange={(needs) => set({ needs })}
        />
        <div className="row">
          <SelectField<Priority>
            label={t('consent.priority')}
            value={form.priority}
            onChange={(priority) => set({ priority })}
            options={[
              { value: 'PRIORITY_STANDARD', label: t('status.standard') },
              { value: 'PRIORITY_URGENT', label: t('status.urgent') },
            ]}
          />
          <SelectField
            label={t('referral.language')}
            value={form.language}
            onChange={(value) => set({ language: value })}
            options={personLanguages.map((code) => ({ value: code, label: languageName(code, language) }))}
          />
        </div>
        <Checkbox
          label={t('referral.interpreterNeeded')}
          checked={form.interpreterNeeded}
          onChange={(interpreterNeeded) => set({ interpreterNeeded })}
        />
      </div>
      <div className="card">
        <h2>{t('referral.packet')}</h2>
        <p className="hint">{t('referral.packetHelp')}</p>
        {allowed.map((category: DataCategory) => (
          <TextField
            key={category}
            name={`packet-${category}`}
            label={l.category[category]}
            hint={l.categoryHelp[category]}
            multiline
            value={form.packet[category] ?? ''}
            onChange={(text) => set({ packet: { ...form.packet, [category]: text } })}
          />
        ))}
        {notOffered.length > 0 && (
          <p className="muted">
            {t('referral.notOffered', { list: notOffered.map((c) => label(l.category, c).toLowerCase()).join(', ') })}
          </p>
        )}
      </div>
      <Problems problems={problems} />
      <div className="actions">
        <button type="submit" className="primary">
          {t('referral.review')}
        </button>
      </div>
    </form>
  );
}

function ReviewStep(props: {
  consentForm: ConsentForm;
  consent: GrantResponse;
  form: ReferralForm;
  onBack: () => void;
  onSent: (referral: Referral) => void;
}): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const { user } = useSession();
  const { form, consentForm } = props;
  const { busy, error, submit } = useSubmission();
  // One key for every attempt at this send: a retry after a lost answer cannot send twice.
  const idempotencyKey = useRef(crypto.randomUUID());
  const request = referralRequest(form, props.consent.subjectRef, user.agencyId, consentForm.categories);
  const send = () =>
    submit(async () => props.onSent((await referrals.send(request, idempotencyKey.current)).referral!));
  return (
    <div>
      <h2>{t('review.title')}</h2>
      <dl className="facts card">
        <dt>{t('referral.to')}</dt>
        <dd>{agencyName(form.toAgency)}</dd>
        <dt>{t('consent.priority')}</dt>
        <dd>{t(form.priority === 'PRIORITY_URGENT' ? 'status.urgent' : 'status.standard')}</dd>
        <dt>{t('referral.needs')}</dt>
        <dd>{form.needs.map((n) => label(l.need, n)).join(', ')}</dd>
        <dt>{t('referral.language')}</dt>
        <dd>
          {languageName(form.language, language)}
          {form.interpreterNeeded ? ` — ${t('referral.interpreterNeeded').toLowerCase()}` : ''}
        </dd>
        <dt>{t('consent.doNotContact')}</dt>
        <dd>{consentForm.doNotContact ? t('common.yes') : t('common.no')}</dd>
        <dt>{t('consent.purposes')}</dt>
        <dd>{consentForm.purposes.map((p) => l.purpose[p]).join(', ')}</dd>
        {consentForm.categories.map((category) => (
          <div key={category} className="fact-group">
            <dt>{l.category[category]}</dt>
            <dd className="packet-text">
              {request.packet.find((s) => s.category === category)?.content ?? (
                <span className="muted">{t('review.empty')}</span>
              )}
            </dd>
          </div>
        ))}
      </dl>
      {error !== undefined && <ErrorNotice error={error} />}
      <div className="actions">
        <button type="button" onClick={props.onBack}>
          {t('common.back')}
        </button>
        <button type="button" className="primary" onClick={() => void send()} disabled={busy}>
          {t('review.send')}
        </button>
      </div>
    </div>
  );
}

function Done(props: {
  consent: GrantResponse;
  referral: Referral;
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
        <p>{t('review.sent', { agency: agencyName(props.referral.toAgency) })}</p>
        {props.referral.acknowledgeDueAt && (
          <p>{t('review.due', { due: dateTime(props.referral.acknowledgeDueAt, language) })}</p>
        )}
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
        <Link to={`/referrals/${props.referral.id}`} className="button">
          {t('receipt.view')}
        </Link>
        <button type="button" className="primary" onClick={props.onRestart}>
          {t('receipt.another')}
        </button>
      </div>
    </div>
  );
}
