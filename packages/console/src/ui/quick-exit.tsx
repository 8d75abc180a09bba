import { useEffect, type ReactNode } from 'react';
import { useI18n } from '../i18n/context.tsx';

/** Where the quick exit goes: a plain page with nothing of Passage on it. */
export const neutralPage = '/neutral.html';

/**
 * Victim-services sites carry a quick exit for when the person (or someone they fear) is
 * looking at the screen: the page is blanked at once and replaced in history by a neutral
 * one, so Back does not bring it back either.
 */
export function quickExit(): void {
  document.title = 'Weather';
  document.body.replaceChildren();
  window.location.replace(neutralPage);
}

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
