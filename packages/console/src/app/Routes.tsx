import { useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../i18n/context.tsx';
import { neutralTitle } from '../ui/neutral-title.ts';
import { Directory } from '../pages/Directory.tsx';
import { Escalations } from '../pages/Escalations.tsx';
import { Handoff } from '../pages/Handoff.tsx';
import { Inbox } from '../pages/Inbox.tsx';
import { Outbox } from '../pages/Outbox.tsx';
import { Oversight } from '../pages/Oversight.tsx';
import { Notifications } from '../pages/Notifications.tsx';
import { People } from '../pages/People.tsx';
import { ReferralDetail } from '../pages/ReferralDetail.tsx';
import { Search } from '../pages/Search.tsx';
import { Link, match, navigate, usePath } from './router.tsx';
import { home, may, type Screen } from './roles.ts';
import { useSession } from './session.ts';

const pages: Readonly<Record<Screen, () => ReactNode>> = {
  handoff: Handoff,
  inbox: Inbox,
  outbox: Outbox,
  search: Search,
  escalations: Escalations,
  oversight: Oversight,
  people: People,
  directory: Directory,
};

export function Routes(): ReactNode {
  const { path } = usePath();
  const { user } = useSession();
  const landing = home(user);
  const toHome = path === '/' || path === '/signin';
  useEffect(() => {
    if (toHome && landing !== '/') navigate(landing);
  }, [toHome, landing]);
  // After moving to another screen the main region takes the focus, so a screen reader
  // starts at the new screen (its heading may still be loading); a fresh page load leaves
  // the focus at the top (the skip link first).
  const firstPath = useRef(path);
  useEffect(() => {
    if (path !== firstPath.current) document.getElementById('main')?.focus();
    firstPath.current = '';
  }, [path]);

  const referral = match('/referrals/:referralId', path);
  const screen = path.split('/')[1] as Screen;
  const Page = pages[screen] as (() => ReactNode) | undefined;
  // One neutral title on every screen (neutral-title.ts): titles go into history, where a
  // watcher can read them; the focused heading says which screen this is.
  useEffect(() => {
    document.title = neutralTitle;
  }, [path]);
  // Keyed: another referral is another page, nothing of the previous one carried over.
  if (referral) return <ReferralDetail key={referral['referralId']} referralId={referral['referralId']!} />;
  // Everyone signed in has their own notices (ADR 40).
  if (path === '/notifications') return <Notifications />;
  if (Page && may(user, screen)) return <Page />;
  if (toHome) return null;
  return <NotFound />;
}

function NotFound(): ReactNode {
  const { t } = useI18n();
  return (
    <section>
      <h1 tabIndex={-1}>{t('notFound.title')}</h1>
      <p>
        <Link to="/">{t('notFound.home')}</Link>
      </p>
    </section>
  );
}
