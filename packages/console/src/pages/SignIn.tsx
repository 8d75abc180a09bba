import { useEffect, useState, type SyntheticEvent, type ReactNode } from 'react';
import { ApiError, post } from '../api/client.ts';
import { useSubmission } from '../api/hooks.ts';
import type { Session } from '../api/edge.ts';
import { useI18n } from '../i18n/context.tsx';
import { neutralTitle } from '../ui/neutral-title.ts';
import { ErrorNotice } from '../ui/feedback.tsx';
import { TextField } from '../ui/fields.tsx';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }): ReactNode {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit: signIn } = useSubmission();
  useEffect(() => {
    document.title = neutralTitle;
  }, []);

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    await signIn(
      async () => onSignedIn(await post<Session>('/api/session', { username, password })),
      () => setPassword(''),
    );
  };

  return (
    <section className="narrow">
      <h1 tabIndex={-1}>{t('signin.title')}</h1>
      <form onSubmit={(e) => void submit(e)} className="card">
        <TextField
          label={t('signin.username')}
          value={username}
          onChange={setUsername}
          autoComplete="username"
          required
          name="username"
        />
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
              <p>{t('signin.failed')}</p>
            </div>
          ) : (
            <ErrorNotice error={error} />
          ))}
        <button type="submit" className="primary" disabled={busy}>
          {t('signin.submit')}
        </button>
      </form>
    </section>
  );
}
