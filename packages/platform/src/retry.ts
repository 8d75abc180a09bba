import { isTransientDependencyError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface RetryOptions {
  /** First wait after a failure; doubles up to maxDelayMs. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Stops waiting (the last failure is thrown) when aborted, e.g. by a shutdown. */
  readonly signal?: AbortSignal;
  /** Which failures are worth waiting out; by default a dependency going away. */
  readonly retryable?: (error: unknown) => boolean;
  /** Injected for tests. */
  readonly wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultWait = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `attempt` until it succeeds, waiting with exponential backoff after each failure that
 * is a dependency not answering (Postgres or NATS down or restarting), with one log line per
 * failure. Any other failure (bad configuration, a refused role) is thrown at once: waiting
 * would not mend it.
 */
export async function untilAvailable<T>(
  what: string,
  attempt: () => Promise<T>,
  log: Logger,
  options: RetryOptions = {},
): Promise<T> {
  const { initialDelayMs = 250, maxDelayMs = 10_000, signal, wait = defaultWait } = options;
  const retryable = options.retryable ?? isTransientDependencyError;
  let delay = initialDelayMs;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!retryable(error) || signal?.aborted) throw error;
      log.warn({ err: error, waiting: what, tries, retryInMs: delay }, `waiting for ${what}`);
      await wait(delay, signal);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}
