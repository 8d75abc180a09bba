import { useEffect, useState, type SyntheticEvent, type ReactNode } from 'react';
import { ApiError, post } from '../api/client.ts';
import { useSubmission } from '../api/hooks.ts';
import type { Session } from '../api/edge.ts';
import { useI18n } from '../i18n/context.tsx';
import { neutralTitle } from '../ui/neutral-title.ts';
import { ErrorNotice } from '../ui/feedback.tsx';
import { TextField } from '../ui/fields.tsx';

/**
 * The lock screen (ADR 35): the session locked after a while without input. Nothing of the
 * screen underneath stays in the page; the person's password reopens the same session where it
 * was. Someone who signs in through their organisation (no password here) signs in again.
 */
export function Lock(props: { onUnlocked: (session: Session) => void; onSignOut: () => void }): ReactNode {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmission();
  useEffect(() => {
    document.title = neutralTitle;
  }, []);

  const unlock = async (event: SyntheticEvent) => {
    event.preventDefault();
    await submit(
      async () => props.onUnlocked(await post<Session>('/api/session/unlock', { password })),
      () => setPassword(''),
    );
  };

  return (
    <section className="narrow">
      <h1 tabIndex={-1}>{t('lock.title')}</h1>
      <p>{t('lock.why')}</p>
      <form onSubmit={(e) => void unlock(e)} className="card">
        <TextField
          label={t('signin.password')}
          type="password"
          value={password}
          onChange={setPassword}
          autoComplete="current-password"
          required
          name="password"
        />
        {error !== undefined &&
          (error instanceof ApiError && error.status === 401 ? (
            <div className="notice notice-error" role="alert">
              <p>{t('lock.failed')}</p>
            </div>
          ) : (
            <ErrorNotice error={error} />
          ))}
        <button type="submit" className="primary" disabled={busy}>
          {t('lock.unlock')}
        </button>
      </form>
      <p>
        <button type="button" onClick={props.onSignOut}>
          {t('lock.signInAgain')}
        </button>
      </p>
    </section>
  );
}
