import { useEffect, type ReactNode } from 'react';
import { signOutNow } from '../api/client.ts';
import { tellOtherTabs } from '../app/tabs.ts';
import { useI18n } from '../i18n/context.tsx';

/** The console's own plain page, until the gateway has said where the quick exit goes. */
export const neutralPage = '/neutral.html';

const lockKey = 'passage.quick-exit';
let exitUrl = neutralPage;

/** Where the quick exit goes: the gateway's QUICK_EXIT_URL (ADR 35), read at start (console-settings.ts). */
export function setQuickExitUrl(url: string): void {
  exitUrl = url;
}

/**
 * Victim-services sites carry a quick exit for when the person (or someone they fear) is
 * looking at the screen: the page is blanked at once and replaced in history by an outside
 * page. The session ends too. The tab remembers the exit (sessionStorage), and every page of
 * the console it reaches again with Back replaces itself with the outside page before showing
 * anything (leaveIfExited, at start; pageshow for a page the browser kept in memory): Back
 * never shows the sign-in page or a person's data. Signing in again takes a new tab.
 */
export function quickExit(): void {
  document.title = 'Weather';
  document.body.replaceChildren();
  sessionStorage.setItem(lockKey, exitUrl);
  signOutNow();
  tellOtherTabs('signed-out');
  window.location.replace(exitUrl);
}

/** After a quick exit in this tab. */
export const quickExitLocked = (): boolean => sessionStorage.getItem(lockKey) !== null;
export const clearQuickExit = (): void => sessionStorage.removeItem(lockKey);

/** At start: a console page reached again after a quick exit leaves at once. True when it leaves. */
export function leaveIfExited(): boolean {
  const to = sessionStorage.getItem(lockKey);
  if (to === null) return false;
  document.title = 'Weather';
  document.body.replaceChildren();
  window.location.replace(to || neutralPage);
  return true;
}

window.addEventListener('pageshow', (event) => {
  if (event.persisted) leaveIfExited();
});

/** Esc twice within a second, anywhere. */
export function useQuickExitKey(): void {
  useEffect(() => {
    let last = 0;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      const now = Date.now();
      if (now - last < 1000) quickExit();
      last = now;
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function QuickExitButton(): ReactNode {
  const { t } = useI18n();
  useQuickExitKey();
  return (
    <button type="button" className="quick-exit" onClick={quickExit} title={t('quickExit.hint')}>
      {t('quickExit.label')}
      <span className="visually-hidden"> — {t('quickExit.hint')}</span>
    </button>
  );
}
