import { useRef, useState, type ReactNode } from 'react';
import { dataCategories, type DataCategory } from '@passage/consent-policy';
import { receiptReference } from '@passage/vocabulary';
import { consent, type ConsentRecord, type ReceiptResponse, type Referral } from '../api/generated.ts';
import { useGet, useNow, useSubmission } from '../api/hooks.ts';
import type { Language } from '../api/edge.ts';
import { useSession } from '../app/session.ts';
import { useI18n } from '../i18n/context.tsx';
import { languageName } from '../i18n/format.ts';
import { captureMethods, label } from '../i18n/labels.ts';
import { ErrorNotice, Loading, Success } from '../ui/feedback.tsx';
import { CheckboxGroup, SelectField } from '../ui/fields.tsx';

/** The reason the network gives when the person's consent does not cover an agency (ADR 36). */
export const consentDoesNotCover = 'consent_does_not_cover';

const inEffect = (record: ConsentRecord, now: number) =>
  !record.revokedAt && (!record.expiresAt || Date.parse(record.expiresAt) > now);

/** Methods a worker picks here; through an interpreter needs the interpreter's language (the hand-off asks it). */
const amendMethods = captureMethods.filter((m) => m !== 'CAPTURE_METHOD_VIA_INTERPRETER');
type AmendMethod = (typeof amendMethods)[number];

/**
 * Where a resend needs it (ADR 36): the person's consent does not cover the agency. With the
 * person, the sender adds the agency (and the categories) to the consent it recorded, shows the
 * new receipt version (EN/FR), then resends.
 */
export function AmendConsentForResend(props: {
  referral: Referral;
  toAgency: string;
  /** The consents the declined referral was sent under, from its Get: the one to amend. */
  consentIds: readonly string[];
  resending: boolean;
  onResend: () => void;
  /** Told once the consent is amended (the page's consent card reads it again). */
  onAmended?: () => void;
}): ReactNode {
  const { t, l, agencyName } = useI18n();
  const { user } = useSession();
  const history = useGet(props.referral.subjectRef ? consent.history({ subjectRef: props.referral.subjectRef }) : null);
  const offered = dataCategories.filter((c) => (props.referral.categories ?? []).includes(c));
  const [categories, setCategories] = useState<DataCategory[]>(offered);
  const [method, setMethod] = useState<AmendMethod>('CAPTURE_METHOD_VERBAL');
  const [amended, setAmended] = useState<{ consentId: string; version: number; receipt?: ReceiptResponse }>();
  // One key per distinct amendment: a retry after a lost answer amends once.
  const key = useRef({ form: '', key: '' });
  const { busy, error, submit } = useSubmission();
  const now = useNow();
  const agency = agencyName(props.toAgency);

  if (amended) {
    return (
      <div className="amend">
        <Success>
          <p>{t('amend.done', { agency, version: amended.version })}</p>
        </Success>
        <VersionedReceipt consentId={amended.consentId} version={amended.version} first={amended.receipt} />
        <p>{t('amend.thenResend', { agency })}</p>
        <button type="button" className="primary" disabled={props.resending} onClick={props.onResend}>
          {t('action.resendTo', { agency })}
        </button>
      </div>
    );
  }
  if (history.error) return <ErrorNotice error={history.error} onRetry={history.reload} />;
  if (!history.data) return <Loading />;
  const own = (history.data.consents ?? []).filter((c) => c.capturedBy?.agencyId === user.agencyId && inEffect(c, now));
  // The consent the declined referral went under, if it is still in effect; else the latest in effect.
  const target = own.find((c) => props.consentIds.includes(c.id)) ?? own.at(-1);

  const amend = () =>
    submit(async () => {
      if (!target) return;
      const request = {
        consentId: target.id,
        method,
        scopes: [{ recipientAgencyIds: [props.toAgency], purposes: ['referral'], categories, doNotContact: false }],
      };
      const form = JSON.stringify(request);
      if (key.current.form !== form) key.current = { form, key: crypto.randomUUID() };
      const answer = await consent.amend(request, key.current.key);
      props.onAmended?.();
      setAmended({
        consentId: target.id,
        version: answer.receipt?.version ?? answer.consent?.receiptVersion ?? 0,
        ...(answer.receipt ? { receipt: answer.receipt } : {}),
      });
    });

  return (
    <div className="amend">
      <div className="notice" role="status">
        <p>
          <strong>{t('amend.notCovered', { agency })}</strong>
        </p>
        <p>{target ? t('amend.ask', { agency }) : t('amend.noConsent')}</p>
      </div>
      {target && (
        <form
          className="subform"
          aria-label={t('amend.title', { agency })}
          onSubmit={(event) => {
            event.preventDefault();
            void amend();
          }}
        >
          <h3>{t('amend.title', { agency })}</h3>
          <p className="muted">{t('amend.reference', { ref: receiptReference(target.id) })}</p>
          <CheckboxGroup
            legend={t('amend.categories', { agency })}
            name="amend-categories"
            options={dataCategories.map((c) => ({ value: c, label: l.category[c] }))}
            selected={categories}
            onChange={setCategories}
          />
          <SelectField<AmendMethod>
            label={t('amend.method')}
            name="amend-method"
            value={method}
            onChange={setMethod}
            options={amendMethods.map((m) => ({ value: m, label: label(l.captureMethod, m) }))}
          />
          <button type="submit" className="primary" disabled={busy || categories.length === 0}>
            {t('amend.submit', { agency })}
          </button>
        </form>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}

/** One receipt version, in English or French: what the person is given after an amendment. */
function VersionedReceipt(props: {
  consentId: string;
  version: number;
  first?: ReceiptResponse | undefined;
}): ReactNode {
  const { t, language } = useI18n();
  const initial = (props.first?.language as Language | undefined) ?? language;
  const [receiptLanguage, setReceiptLanguage] = useState<Language>(initial);
  const [receipts, setReceipts] = useState<Partial<Record<Language, ReceiptResponse>>>(
    props.first ? { [initial]: props.first } : {},
  );
  const [error, setError] = useState<unknown>(undefined);
  const choose = async (next: Language) => {
    setReceiptLanguage(next);
    if (receipts[next]) return;
    try {
      const fetched = await consent
        .receipt({ consentId: props.consentId, language: next, version: props.version })
        .fetch();
      setReceipts((all) => ({ ...all, [next]: fetched }));
    } catch (failure) {
      setError(failure);
    }
  };
  const receipt = receipts[receiptLanguage];
  return (
    <div className="card receipt">
      <h3>{t('amend.receiptTitle', { version: props.version })}</h3>
      <p className="muted">{t('amend.receiptHint')}</p>
      <SelectField<Language>
        label={t('receipt.language')}
        name="amend-receipt-language"
        value={receiptLanguage}
        onChange={(next) => void choose(next)}
        options={[
          { value: 'en', label: languageName('en', language) },
          { value: 'fr', label: languageName('fr', language) },
        ]}
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
      </div>
    </div>
  );
}

/**
 * For an agency a consent names (ADR 36): the person tells it they withdraw their consent, and
 * it records that here. The whole consent ends at once, for every agency it names, as the
 * person's receipt promises; open referrals under it are withdrawn by the network.
 */
export function RecordWithdrawal(props: { consentIds: readonly string[]; onRecorded: () => void }): ReactNode {
  const { t } = useI18n();
  const [confirming, setConfirming] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, submit } = useSubmission();
  const record = (consentId: string) =>
    submit(async () => {
      await consent.revoke({ consentId, all: true, reason: 'person_withdrew' });
      setConfirming('');
      setDone(true);
      props.onRecorded();
    });
  return (
    <div className="card">
      <h2>{t('consentCard.title')}</h2>
      <div role="status" aria-live="polite">
        {done && <p className="notice notice-ok">{t('amend.withdrawalRecorded')}</p>}
      </div>
      {!done &&
        props.consentIds.map((consentId) => (
          <div key={consentId} className="consent">
            <p>{t('amend.sharedUnder', { ref: receiptReference(consentId) })}</p>
            {confirming === consentId ? (
              <div className="notice" role="group" aria-label={t('amend.withdrawConfirmTitle')}>
                <p>{t('amend.withdrawConfirm', { ref: receiptReference(consentId) })}</p>
                <div className="actions">
                  <button type="button" onClick={() => setConfirming('')}>
                    {t('common.cancel')}
                  </button>
                  <button type="button" className="primary" disabled={busy} onClick={() => void record(consentId)}>
                    {t('amend.withdrawYes')}
                  </button>
                </div>
              </div>
            ) : (
              <button type="button" onClick={() => setConfirming(consentId)}>
                {t('amend.recordWithdrawal')}
              </button>
            )}
          </div>
        ))}
      {error !== undefined && <ErrorNotice error={error} />}
    </div>
  );
}
