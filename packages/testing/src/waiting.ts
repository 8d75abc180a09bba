/** Polls `probe` until `done` holds for its value; fails with the last value after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms (last value: ${JSON.stringify(value, mapsAsObjects)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls until `probe` answers true. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  await waitFor(probe, (ok) => ok, timeoutMs);
}

/** The error a call failed with; fails the test if it succeeded. */
export async function failureOf<E = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

function mapsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Map ? Object.fromEntries(value) : value;
}
