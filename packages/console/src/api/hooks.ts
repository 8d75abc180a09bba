import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, get, type Read } from './client.ts';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * GET what the generated API describes and keep the answer; a new path (or reload) asks again, showing the previous
 * answer until the new one arrives (a live list does not flicker). Null path: nothing asked.
 */
export function useGet<T>(read: Read<T> | null): Loaded<T> {
  const path = read?.path ?? null;
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
  /** The referral's state in the domain's words (`sent`, `acknowledged`…). */
  readonly state: string;
  readonly version: number;
}

/** An announcement on the oversight feed: a consent scope that lets police read (ADR 22). */
export interface PoliceAccessEvent {
  readonly consentId: string;
  readonly scopeId: string;
  /** `proposed` (by police, no effect yet), `confirmed` (with the person, by a non-police worker) or `granted`. */
  readonly state: string;
  readonly policeAgencyIds: string[];
  readonly allPolice: boolean;
  readonly categories: string[];
  readonly recordedByAgency: string;
  /** The agency whose worker acted now: the recorder, or the confirming worker. */
  readonly actorAgency: string;
  readonly occurredAt: string;
}

/**
 * The agency's live feed (server-sent events). EventSource reconnects by itself after a
 * dropped connection and sends Last-Event-ID, so the gateway resumes where it left off. An
 * answer other than 200 (session ended, too many feeds, a deploy) closes it for good: then
 * the session is checked (a lost one signs the console out) and the feed opened again with
 * back-off. `onOpen` runs on every (re)connection, so a list catches up on what it missed.
 */
export function useLiveFeed(onEvent: (event: FeedEvent) => void, onOpen?: () => void): { connected: boolean } {
  return useEventSource('/api/events', 'referral', (data) => onEvent(data as FeedEvent), onOpen);
}

/** The oversight feed (auditors and administrators): scopes that let police read, as they happen. `open` false: not opened. */
export function useOversightFeed(
  open: boolean,
  onEvent: (event: PoliceAccessEvent) => void,
  onOpen?: () => void,
): { connected: boolean } {
  return useEventSource(
    open ? '/api/oversight/events' : null,
    'police_access',
    (data) => onEvent(data as PoliceAccessEvent),
    onOpen,
  );
}

/** One server-sent event stream: `name` events' JSON to `onEvent`; url null: nothing opened. */
function useEventSource(
  url: string | null,
  name: string,
  onEvent: (data: unknown) => void,
  onOpen?: () => void,
): { connected: boolean } {
  const [connected, setConnected] = useState(false);
  const handlers = useRef({ onEvent, onOpen });
  useEffect(() => {
    handlers.current = { onEvent, onOpen };
  });
  useEffect(() => {
    if (url === null) return;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = 1000;
    let opened = false;
    const open = () => {
      source = new EventSource(url);
      source.onopen = () => {
        delay = 1000;
        setConnected(true);
        // The first open needs no catching up: the page has just loaded its list.
        if (opened) handlers.current.onOpen?.();
        opened = true;
      };
      source.onerror = () => {
        setConnected(false);
        if (source?.readyState !== EventSource.CLOSED) return;
        void get('/api/session').catch(() => undefined);
        retry = setTimeout(open, delay);
        delay = Math.min(delay * 2, 30_000);
      };
      source.addEventListener(name, (message) => {
        try {
          handlers.current.onEvent(JSON.parse((message as MessageEvent<string>).data));
        } catch {
          // A malformed event is not worth breaking the screen for; the list reloads anyway.
        }
      });
    };
    open();
    return () => {
      clearTimeout(retry);
      source?.close();
    };
  }, [url, name]);
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

export interface Submission {
  /** A call is under way: its button waits. */
  readonly busy: boolean;
  /** What went wrong with the last call, until the next one starts. */
  readonly error: unknown;
  readonly setError: (error: unknown) => void;
  /** Runs one user action against the API; a failure is kept in `error` and handed to `onFailure`. */
  readonly submit: (work: () => Promise<void>, onFailure?: (failure: unknown) => void) => Promise<void>;
}

/** The busy flag and the error of a form or button that calls the API. */
export function useSubmission(): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const submit = useCallback(async (work: () => Promise<void>, onFailure?: (failure: unknown) => void) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (failure) {
      setError(failure);
      onFailure?.(failure);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, submit };
}
