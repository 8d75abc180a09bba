import type { Caller } from '@passage/auth';
import { PassageError } from '@passage/errors';
import type { StoredItem, TimerRecord, TimerStore } from './ports.ts';

const timerStates = ['', 'pending', 'fired', 'cancelled'];

export class EscalationQueries {
  readonly #store: TimerStore;

  constructor(store: TimerStore) {
    this.#store = store;
  }

  /** The items left for the caller's agency; supervisor items only to its supervisors. */
  escalations(caller: Caller, limit: number): Promise<StoredItem[]> {
    return this.#store.items(caller.agencyId, caller.roles.includes('supervisor'), clamp(limit, 50, 200));
  }

  timers(caller: Caller, state: string, limit: number): Promise<TimerRecord[]> {
    if (!caller.roles.some((role) => role === 'admin' || role === 'auditor')) {
      throw new PassageError('permission_denied', 'the timers are for administrators and auditors');
    }
    if (!timerStates.includes(state)) {
      throw PassageError.invalid([{ field: 'state', description: 'pending, fired, cancelled, or empty for all' }]);
    }
    return this.#store.timers(state, clamp(limit, 100, 1000));
  }
}

function clamp(limit: number, fallback: number, max: number): number {
  if (limit === 0) return fallback;
  if (limit < 0 || limit > max) throw PassageError.invalid([{ field: 'limit', description: `between 1 and ${max}` }]);
  return limit;
}
