import { useEffect } from 'react';
import { get, post } from '../api/client.ts';
import { idleLockAfterMs } from './console-settings.ts';

const inputs = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;

/**
 * The idle lock as the console sees it (ADR 35); the gateway enforces it. While signed in,
 * the person's input (keys, pointer, wheel, touch: not the screen's own reloads) is told to
 * the gateway (POST /api/session/activity) at most once a beat (checked each second); once no input has come for
 * the lock's time, the console asks the gateway, whose 401 "locked" brings the lock screen
 * (client.ts → App). A beat is a quarter of the lock's time, at most a minute.
 */
export function useIdleLock(active: boolean): void {
  useEffect(() => {
    if (!active) return;
    let lastInput = Date.now();
    let told = true;
    let lastTold = 0;
    let lastAsked = 0;
    const onInput = () => {
      lastInput = Date.now();
      told = false;
    };
    for (const name of inputs) window.addEventListener(name, onInput, { passive: true, capture: true });
    const timer = setInterval(() => {
      const now = Date.now();
      const lockMs = idleLockAfterMs();
      const beat = Math.max(1000, Math.min(60_000, lockMs / 4));
      if (!told && now - lastTold >= beat) {
        told = true;
        lastTold = now;
        post('/api/session/activity').catch(() => undefined);
      } else if (told && now - lastInput > lockMs && now - lastAsked >= beat) {
        // The gateway's answer decides: a 401 "locked" shows the lock screen.
        lastAsked = now;
        get('/api/session').catch(() => undefined);
      }
    }, 1000);
    return () => {
      clearInterval(timer);
      for (const name of inputs) window.removeEventListener(name, onInput, { capture: true });
    };
  }, [active]);
}
