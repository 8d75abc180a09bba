// For `pnpm start`: waits until every service says it serves (GET /readyz answers 200), so the
// banner that says "sign in" and "Then: pnpm demo" is true when it is printed; says which ones
// are still not up while it waits, and gives up at a deadline naming them.

export interface Probe {
  readonly name: string;
  /** A URL answering 200 when the service serves: its /readyz. */
  readonly url: string;
}

/** Whether `url` answers 200 now (a refused connection or a 503 is "not yet"). */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Polls every probe (every `intervalMs`) until all answer 200 or `deadlineMs` has passed; a line
 * naming those not up yet every `reportEveryMs`. Resolves with the names still not up ([] when
 * all are), or at once with the rest when `stopped()` says the wait no longer matters.
 */
export async function waitUntilReady(
  probes: readonly Probe[],
  options: {
    readonly deadlineMs: number;
    readonly reportEveryMs: number;
    readonly intervalMs?: number;
    readonly log: (line: string) => void;
    readonly stopped?: () => boolean;
  },
): Promise<string[]> {
  const start = Date.now();
  let reported = start;
  let waiting = [...probes];
  for (;;) {
    const results = await Promise.all(waiting.map((probe) => answers(probe.url)));
    waiting = waiting.filter((_, index) => !results[index]);
    const names = waiting.map((probe) => probe.name);
    if (waiting.length === 0 || options.stopped?.() || Date.now() - start >= options.deadlineMs) return names;
    if (Date.now() - reported >= options.reportEveryMs) {
      reported = Date.now();
      options.log(`still starting after ${Math.round((reported - start) / 1000)} s: ${names.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
