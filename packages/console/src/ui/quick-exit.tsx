import { useEffect, type ReactNode } from 'react';
import { signOutNow } from '../api/client.ts';
import { useI18n } from '../i18n/context.tsx';

/** Where the quick exit goes: a plain page with nothing of Passage on it. */
export const neutralPage = '/neutral.html';

const lockKey = 'passage.quick-exit';

/**
 * Victim-services sites carry a quick exit for when the person (or someone they fear) is
 * looking at the screen: the page is blanked at once and replaced in history by a neutral
 * one. The session ends too, so an earlier page reached with Back shows the sign-in page,
 * not a person's data; a page the browser kept in memory is blanked as it comes back.
 */
export function quickExit(): void {
  document.title = 'Weather';
  document.body.replaceChildren();
  sessionStorage.setItem(lockKey, '1');
  signOutNow();
  window.location.replace(neutralPage);
}

/** After a quick exit, until someone signs in again in this tab. */
export const quickExitLocked = (): boolean => sessionStorage.getItem(lockKey) !== null;
export const clearQuickExit = (): void => sessionStorage.removeItem(lockKey);

window.addEventListener('pageshow', (event) => {
  if (event.persisted && quickExitLocked()) {
    document.body.replaceChildren();
    window.location.replace(neutralPage);
  }
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
