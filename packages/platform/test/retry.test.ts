import { expect, it } from 'vitest';
import { createLogger, untilAvailable } from '../src/index.ts';

const log = createLogger('retry-test', 'silent');
const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

it('waits out a dependency that is down, with doubling waits up to the ceiling, then succeeds', async () => {
  const waits: number[] = [];
  let tries = 0;
  const result = await untilAvailable(
    'Postgres',
    () => {
      tries++;
      return tries < 7 ? Promise.reject(refused()) : Promise.resolve('open');
    },
    log,
    { initialDelayMs: 100, maxDelayMs: 1_000, wait: (ms) => Promise.resolve(void waits.push(ms)) },
  );
  expect(result).toBe('open');
  expect(waits).toEqual([100, 200, 400, 800, 1_000, 1_000]);
});

it('throws at once what waiting cannot mend', async () => {
  let tries = 0;
  const refusedRole = new Error('cannot act as the database role passage_x');
  await expect(
    untilAvailable('Postgres', () => (tries++, Promise.reject(refusedRole)), log, { wait: () => Promise.resolve() }),
  ).rejects.toBe(refusedRole);
  expect(tries).toBe(1);
});

it('stops waiting when aborted', async () => {
  const abort = new AbortController();
  let tries = 0;
  await expect(
    untilAvailable(
      'NATS',
      () => {
        if (++tries === 3) abort.abort();
        return Promise.reject(refused());
      },
      log,
      { signal: abort.signal, wait: () => Promise.resolve() },
    ),
  ).rejects.toThrow(/ECONNREFUSED/);
  expect(tries).toBe(3);
});
