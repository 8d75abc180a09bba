import type { ReactNode } from 'react';
import type { Language } from '../api/edge.ts';
import { useI18n } from '../i18n/context.tsx';
import { NotificationBadge } from '../ui/notification-badge.tsx';
import { QuickExitButton } from '../ui/quick-exit.tsx';
import { Link, usePath } from './router.tsx';
import { screens } from './roles.ts';
import { useOptionalSession } from './session.ts';

export function Layout(props: {
  language: Language;
  onLanguage: (language: Language) => void;
  children: ReactNode;
}): ReactNode {
  const { t, agencyName } = useI18n();
  const session = useOptionalSession();
  const { path } = usePath();
  const other: Language = props.language === 'en' ? 'fr' : 'en';
  return (
    <>
      <a className="skip" href="#main">
        {t('layout.skip')}
      </a>
      <header className="top">
        <div className="brand">
          <span className="brand-name">{t('app.name')}</span>
          <span className="brand-tagline">{t('app.tagline')}</span>
        </div>
        <div className="top-actions">
          {session && !session.mustChangePassword && <NotificationBadge />}
          <button
            type="button"
            className="language"
            lang={other}
            onClick={() => props.onLanguage(other)}
            aria-label={other === 'fr' ? 'Français — changer la langue' : 'English — change the language'}
          >
            {other === 'fr' ? 'Français' : 'English'}
          </button>
          {session && (
            <button type="button" className="secondary" onClick={() => void session.signOut()}>
              {t('layout.signOut')}
            </button>
          )}
          <QuickExitButton />
        </div>
        {session && (
          <>
            <p className="who">
              {session.agencies.has(session.user.agencyId)
                ? t('layout.signedInAs', {
                    name: session.user.displayName,
                    agency: agencyName(session.user.agencyId),
                  })
                : t('layout.signedInAsPerson', { name: session.user.displayName })}
            </p>
            {!session.mustChangePassword && (
              <nav aria-label={t('nav.label')} className="nav">
                <ul>
                  {screens(session.user).map((screen) => (
                    <li key={screen}>
                      <Link to={`/${screen}`} current={path.startsWith(`/${screen}`)}>
                        {t(`nav.${screen}`)}
                      </Link>
                    </li>
                  ))}
                </ul>
              </nav>
            )}
          </>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
