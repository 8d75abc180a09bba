import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { get, onSignedOut, put, request, setCsrfToken } from '../api/client.ts';
import type { Language, Session } from '../api/edge.ts';
import { directory, type Agency } from '../api/generated.ts';
import { I18nContext, makeI18n } from '../i18n/context.tsx';
import { Loading } from '../ui/feedback.tsx';
import { clearQuickExit } from '../ui/quick-exit.tsx';
import { Layout } from './Layout.tsx';
import { Routes } from './Routes.tsx';
import { ChangePassword, SetPassword } from '../pages/Password.tsx';
import { SignIn } from '../pages/SignIn.tsx';
import { Lock } from '../pages/Lock.tsx';
import { useIdleLock } from './idle-lock.ts';
import { navigate, usePath } from './router.tsx';
import { home } from './roles.ts';
import { SessionContext } from './session.ts';
import { onOtherTabs, tellOtherTabs } from './tabs.ts';

const storedLanguage = (): Language => (localStorage.getItem('passage.language') === 'fr' ? 'fr' : 'en');

export function App(): ReactNode {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [language, setLanguageState] = useState<Language>(storedLanguage);
  const [agencies, setAgencies] = useState<ReadonlyMap<string, Agency>>(new Map());
  const [agenciesRead, setAgenciesRead] = useState(0);
  // Locked after a while without input (ADR 35): nothing but the lock screen until the password.
  const [locked, setLocked] = useState(false);
  const { path } = usePath();

  const begin = useCallback((next: Session) => {
    clearQuickExit();
    setCsrfToken(next.csrfToken);
    setSession(next);
    setLanguageState(next.user.language);
    localStorage.setItem('passage.language', next.user.language);
  }, []);

  useEffect(() => {
    onSignedOut((reason) => {
      if (reason === 'locked') setLocked(true);
      else {
        setLocked(false);
        setSession(null);
      }
    });
    get<Session>('/api/session').then(begin, () => setSession(null));
  }, [begin]);
  useIdleLock(Boolean(session) && !locked);

  // Signed out in another tab: this one locks at once too (its session is the same, now ended).
  useEffect(
    () =>
      onOtherTabs(() => {
        setCsrfToken('');
        setLocked(false);
        setSession(null);
      }),
    [],
  );

  useEffect(() => {
    // Nothing but the password change is open to a temporary password.
    if (!session || session.mustChangePassword) return;
    directory
      .listAgencies({})
      .fetch()
      .then(
        (list) => setAgencies(new Map((list.agencies ?? []).map((a) => [a.id, a]))),
        () => undefined,
      );
  }, [session, agenciesRead]);
  const reloadAgencies = useCallback(() => setAgenciesRead((n) => n + 1), []);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  // When the session's time is up, the screen goes back to the sign-in page by itself:
  // a person's data does not stay on an unattended screen.
  useEffect(() => {
    if (!session) return;
    const left = Date.parse(session.expiresAt) - Date.now();
    const timer = setTimeout(() => setSession(null), Math.max(0, Math.min(left, 2 ** 31 - 1)));
    return () => clearTimeout(timer);
  }, [session]);

  const setLanguage = useCallback(
    (next: Language) => {
      setLanguageState(next);
      localStorage.setItem('passage.language', next);
      // Remembered per person on the server, so it follows them to another computer.
      if (session) put('/api/session/language', { language: next }).catch(() => undefined);
    },
    [session],
  );

  const signOut = useCallback(async () => {
    await request('DELETE', '/api/session').catch(() => undefined);
    tellOtherTabs('signed-out');
    setCsrfToken('');
    setLocked(false);
    setSession(null);
    navigate('/');
  }, []);

  const i18n = useMemo(() => makeI18n(language, agencies), [language, agencies]);
  const sessionValue = useMemo(
    () =>
      session && !locked
        ? {
            user: session.user,
            agencies,
            signOut,
            reloadAgencies,
            mustChangePassword: session.mustChangePassword === true,
          }
        : undefined,
    [session, locked, agencies, signOut, reloadAgencies],
  );

  let body: ReactNode;
  // A one-time link's page needs no session (and takes none that is open into account).
  if (path === '/set-password') body = <SetPassword />;
  else if (locked)
    body = (
      <Lock
        onUnlocked={(next) => {
          begin(next);
          setLocked(false);
        }}
        onSignOut={() => void signOut()}
      />
    );
  else if (session === undefined) body = <Loading />;
  else if (session === null)
    body = (
      <SignIn
        onSignedIn={(next) => {
          begin(next);
          if (window.location.pathname === '/' || window.location.pathname === '/signin') navigate(home(next.user));
        }}
      />
    );
  else if (session.mustChangePassword)
    body = (
      <ChangePassword
        onChanged={async () => {
          // The same session, now open to everything the person's roles allow.
          begin(await get<Session>('/api/session'));
          if (window.location.pathname === '/' || window.location.pathname === '/signin') navigate(home(session.user));
        }}
      />
    );
  else body = <Routes />;

  return (
    <I18nContext.Provider value={i18n}>
      <SessionContext.Provider value={sessionValue}>
        <Layout language={language} onLanguage={setLanguage}>
          {body}
        </Layout>
      </SessionContext.Provider>
    </I18nContext.Provider>
  );
}
