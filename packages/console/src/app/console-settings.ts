import { get } from '../api/client.ts';
import { setQuickExitUrl } from '../ui/quick-exit.tsx';

/**
 * The gateway's settings the console follows (ADR 35), read once at start from
 * GET /api/console-settings, so an operator changes them without rebuilding the console:
 * where the quick exit goes (QUICK_EXIT_URL), when a session locks (IDLE_LOCK_MINUTES).
 */
let idleLockMs = 15 * 60_000;

export const idleLockAfterMs = (): number => idleLockMs;

export function loadConsoleSettings(): void {
  get<{ quickExitUrl?: string; idleLockMinutes?: number }>('/api/console-settings').then(
    (settings) => {
      if (settings.quickExitUrl) setQuickExitUrl(settings.quickExitUrl);
      if (settings.idleLockMinutes) idleLockMs = settings.idleLockMinutes * 60_000;
    },
    () => undefined,
  );
}
