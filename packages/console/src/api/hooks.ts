import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, get } from './client.ts';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * GET a path and keep the answer; a new path (or reload) asks again, showing the previous
 * answer until the new one arrives (a live list does not flicker). Null path: nothing asked.
 */
export function useGet<T>(path: string | null): Loaded<T> {
  const [generation, setGeneration] = useState(0);
  const key = path === null ? null : `${generation} ${path}`;
  const [state, setState] = useState<{ key?: string; data?: T; error?: ApiError }>({});
  useEffect(() => {
    if (key === null || path === null) return;
    let current = true;
    get<T>(path).then(
      (data) => current && setState({ key, data }),
      (error: unknown) =>
        current &&
        setState({ key, error: error instanceof ApiError ? error : new ApiError(0, 'unknown', String(error)) }),
    );
    return () => {
      current = false;
    };
  }, [key, path]);
  const reload = useCallback(() => setGeneration((n) => n + 1), []);
  return {
    data: state.data,
    error: state.key === key ? state.error : undefined,
    loading: key !== null && state.key !== key,
    reload,
  };
}

export interface FeedEvent {
  readonly type: string;
  readonly direction: 'inbound' | 'outbound';
  readonly referralId: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly state: string;
}

/**
 * The agency's live feed (server-sent events). EventSource reconnects by itself and sends
 * Last-Event-ID, so the gateway resumes where it left off: nothing is missed or repeated.
 */
export function useLiveFeed(onEvent: (event: FeedEvent) => void): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  useEffect(() => {
    const source = new EventSource('/api/events');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.addEventListener('referral', (message) => {
      try {
        handler.current(JSON.parse((message as MessageEvent<string>).data) as FeedEvent);
      } catch {
        // A malformed event is not worth breaking the screen for; the list reloads anyway.
      }
    });
    return () => source.close();
  }, []);
  return { connected };
}

/** The current time, ticking every `ms`, for countdowns. */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
