import { useEffect, useState, type ReactNode, type SyntheticEvent } from 'react';
import { ApiError } from '../api/client.ts';
import { identity } from '../api/generated.ts';
import { useSubmission } from '../api/hooks.ts';
import { Link } from '../app/router.tsx';
import { useI18n } from '../i18n/context.tsx';
import { neutralTitle } from '../ui/neutral-title.ts';
import { ErrorNotice, Success } from '../ui/feedback.tsx';
import { FieldProblemsProvider } from '../ui/field-problems.tsx';
import { TextField } from '../ui/fields.tsx';

// Choosing one's own password (ADR 30): after signing in with a temporary password, before
// anything else; and from a one-time set-password link, without a session. The gateway's
// rule (12 to 200 characters, no composition rules) is checked here first only to say so
// beside the field; the gateway checks it anyway.

const minLength = 12;

/** A refusal of the new password before sending: too short, or the two entries differ. */
function checkNew(chosen: string, again: string): ApiError | undefined {
  const errors = [];
  if (Array.from(chosen).length < minLength)
    errors.push({ pointer: '/newPassword', detail: 'a password of 12 to 200 characters' });
  else if (chosen !== again) errors.push({ pointer: '/confirm', detail: 'the two passwords differ' });
  return errors.length > 0 ? new ApiError(400, 'invalid_argument', 'check the new password', [], errors) : undefined;
}

function NewPasswordFields(props: {
  chosen: string;
  again: string;
  onChosen: (value: string) => void;
  onAgain: (value: string) => void;
}): ReactNode {
  const { t } = useI18n();
  return (
    <>
      <TextField
        label={t('password.new')}
        hint={t('password.rule')}
        type="password"
        value={props.chosen}
        onChange={props.onChosen}
        autoComplete="new-password"
        name="new-password"
        required
        field="/newPassword"
      />
      <TextField
        label={t('password.again')}
        type="password"
        value={props.again}
        onChange={props.onAgain}
        autoComplete="new-password"
        name="confirm-password"
        required
        field="/confirm"
      />
    </>
  );
}

/** The step after signing in with a temporary password: nothing else is open until it is done. */
export function ChangePassword({ onChanged }: { onChanged: () => Promise<void> }): ReactNode {
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const [chosen, setChosen] = useState('');
  const [again, setAgain] = useState('');
  const { busy, error, setError, submit } = useSubmission();
  useEffect(() => {
    document.title = neutralTitle;
  }, []);

  const change = async (event: SyntheticEvent) => {
    event.preventDefault();
    const refused = checkNew(chosen, again);
    if (refused) return setError(refused);
    await submit(async () => {
      await identity.changePassword({ currentPassword: current, newPassword: chosen });
      await onChanged();
    });
  };

  return (
    <section className="narrow">
      <h1 tabIndex={-1}>{t('password.changeTitle')}</h1>
      <p>{t('password.changeWhy')}</p>
      <FieldProblemsProvider error={error}>
        <form noValidate onSubmit={(e) => void change(e)} className="card">
          <TextField
            label={t('password.current')}
            type="password"
            value={current}
            onChange={setCurrent}
            autoComplete="current-password"
            name="current-password"
            required
            field="/currentPassword"
          />
          <NewPasswordFields chosen={chosen} again={again} onChosen={setChosen} onAgain={setAgain} />
          {error !== undefined && <ErrorNotice error={error} fieldsShown />}
          <button type="submit" className="primary" disabled={busy}>
            {t('password.changeSubmit')}
          </button>
        </form>
      </FieldProblemsProvider>
    </section>
  );
}

/** The token of a link's fragment; a damaged one (bad %-escapes) is no token. */
function fragmentToken(hash: string): string {
  try {
    return decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    return '';
  }
}

/**
 * `/set-password#<token>`: a one-time link's page. The token is in the fragment, so it never
 * reaches a server's logs; it is taken out of the address at once (history keeps no copy).
 */
export function SetPassword(): ReactNode {
  const { t } = useI18n();
  const [token] = useState(() => fragmentToken(window.location.hash));
  const [chosen, setChosen] = useState('');
  const [again, setAgain] = useState('');
  const [done, setDone] = useState('');
  const { busy, error, setError, submit } = useSubmission();
  useEffect(() => {
    document.title = neutralTitle;
  }, []);
  useEffect(() => {
    if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);
  }, []);

  const complete = async (event: SyntheticEvent) => {
    event.preventDefault();
    const refused = checkNew(chosen, again);
    if (refused) return setError(refused);
    await submit(async () => {
      const answer = await identity.completePasswordLink({ token, newPassword: chosen });
      setDone(answer.userId);
    });
  };

  return (
    <section className="narrow">
      <h1 tabIndex={-1}>{t('password.setTitle')}</h1>
      {done ? (
        <>
          <Success>{t('password.setDone', { user: done })}</Success>
          <p>
            <Link to="/">{t('password.toSignIn')}</Link>
          </p>
        </>
      ) : !token ? (
        <div className="notice notice-error" role="alert">
          <p>{t('password.noToken')}</p>
        </div>
      ) : (
        <FieldProblemsProvider error={error}>
          <form noValidate onSubmit={(e) => void complete(e)} className="card">
            <p>{t('password.setWhy')}</p>
            <NewPasswordFields chosen={chosen} again={again} onChosen={setChosen} onAgain={setAgain} />
            {error !== undefined &&
              (error instanceof ApiError && error.errors.some((e) => e.pointer === '/token') ? (
                <div className="notice notice-error" role="alert">
                  <p>{t('password.linkSpent')}</p>
                </div>
              ) : (
                <ErrorNotice error={error} fieldsShown />
              ))}
            <button type="submit" className="primary" disabled={busy}>
              {t('password.setSubmit')}
            </button>
          </form>
        </FieldProblemsProvider>
      )}
    </section>
  );
}
