import { untraced, type Logger } from '@passage/platform';
import { itemsFor } from '../domain/index.ts';
import type {
  ClaimedBatch,
  ConsentPort,
  DirectoryPort,
  ItemRecord,
  ReferralsPort,
  Settlement,
  TimerRecord,
  TimerStore,
} from './ports.ts';

export interface WorkerOptions {
  readonly crisisLine: string;
  /** Longest sleep between looks for due timers. */
  readonly pollMs: number;
  /** Batches worked on at once by this instance. */
  readonly concurrency: number;
  /** Most due timers claimed, escalated and settled together (ADR 47). */
  readonly batchSize: number;
  /** The clock timers fall due by: the wall clock unless a test moves time on. */
  readonly now?: () => Date;
}

/**
 * Fires due timers, a batch at a time (ADR 47): records their escalations with the referrals
 * service in one call (each idempotent by its timer's id, so a timer claimed again after a
 * crash escalates once), then leaves the items for the crisis line, the sender and, on a
 * second miss, the receiving supervisors — in the transaction that claimed the timers and
 * marks them fired. Several instances share the work through `FOR UPDATE SKIP LOCKED`.
 */
export class EscalationWorker {
  readonly #store: TimerStore;
  readonly #referrals: ReferralsPort;
  readonly #directory: DirectoryPort;
  readonly #consent: ConsentPort;
  readonly #options: WorkerOptions;
  readonly #log: Logger;
  readonly #now: () => Date;
  #running = false;
  #loops: Promise<void>[] = [];
  #wake: (() => void)[] = [];

  constructor(
    ports: { store: TimerStore; referrals: ReferralsPort; directory: DirectoryPort; consent: ConsentPort },
    options: WorkerOptions,
    log: Logger,
  ) {
    this.#store = ports.store;
    this.#referrals = ports.referrals;
    this.#directory = ports.directory;
    this.#consent = ports.consent;
    this.#options = options;
    this.#log = log;
    this.#now = options.now ?? (() => new Date());
  }

  start(): void {
    this.#running = true;
    this.#loops = Array.from({ length: this.#options.concurrency }, () => this.#loop());
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const wake of this.#wake) wake();
    await Promise.all(this.#loops);
  }

  /** Fires a batch of due timers if any is due; true when it found one. */
  async fireNext(now = this.#now()): Promise<boolean> {
    const claimed = await this.#store.withDueTimers(now, this.#options.batchSize, async (batch) => {
      await this.#fire(batch);
    });
    return claimed > 0;
  }

  /**
   * Fires the given timers, those of them still pending, as a batch: the way in for a job
   * queue whose job names its timer (the benchmark's peer). Returns how many it claimed, and
   * how many of those it put off (to be tried again: the queue's own retry then).
   */
  async fireTimers(ids: readonly string[], now = this.#now()): Promise<{ claimed: number; putOff: number }> {
    let putOff = 0;
    const claimed = await this.#store.withTimers(ids, now, async (batch) => {
      putOff = (await this.#fire(batch)).filter((settlement) => settlement.kind === 'retry').length;
    });
    return { claimed, putOff };
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      let fired = false;
      try {
        // A look that finds no due timer makes no span; one that does traces its firing (ADR 32).
        fired = await untraced(() => this.fireNext());
      } catch (error) {
        this.#log.error({ err: error }, 'could not work on due timers; trying again');
      }
      if (fired || !this.#running) continue;
      const next = await untraced(() => this.#store.nextDueAt()).catch(() => undefined);
      const wait = next
        ? Math.min(this.#options.pollMs, Math.max(0, next.getTime() - this.#now().getTime()))
        : this.#options.pollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.#wake = [];
    }
  }

  async #fire(batch: ClaimedBatch): Promise<Settlement[]> {
    const { timers } = batch;
    let outcomes;
    try {
      outcomes = await this.#referrals.escalateMany(
        timers.map(({ timer }) => ({
          referralId: timer.referralId,
          target: timer.target,
          idempotencyKey: `timer-${timer.id}`,
        })),
      );
      if (outcomes.length !== timers.length) throw new Error(`${outcomes.length} outcomes for ${timers.length} timers`);
    } catch (error) {
      this.#log.warn({ timers: timers.length, err: error }, 'referrals could not record the escalations; retrying');
      const message = (error as Error).message.slice(0, 500);
      const retries = timers.map(({ timer }) => retry(timer, message));
      await batch.settle(retries);
      return retries;
    }
    // In claim order: a referral's second timer in the same batch follows its first one's firing.
    const firedHere = new Map<string, number>();
    // (Each callback counts before its first await: in order, as map calls them.)
    const settlements = timers.map(async ({ timer, escalationsBefore }, i): Promise<Settlement> => {
      const result = outcomes[i]!;
      switch (result.outcome) {
        case 'escalated': {
          const before = escalationsBefore + (firedHere.get(timer.referralId) ?? 0);
          firedHere.set(timer.referralId, (firedHere.get(timer.referralId) ?? 0) + 1);
          return { timerId: timer.id, kind: 'fired', items: await this.#itemsFor(timer, before) };
        }
        case 'target_met':
        case 'unknown_referral':
          return { timerId: timer.id, kind: 'cancelled', reason: result.outcome };
        case 'busy':
          return retry(timer, 'the escalation was being recorded elsewhere');
        case 'refused':
          this.#log.warn({ timer: timer.id }, 'referrals refused the escalation; retrying');
          return retry(timer, result.detail.slice(0, 500));
      }
    });
    const settled = await Promise.all(settlements);
    await batch.settle(settled);
    return settled;
  }

  /** The items a firing leaves: suggestions and consent asked for the crisis line's. */
  async #itemsFor(timer: TimerRecord, escalationsBefore: number): Promise<ItemRecord[]> {
    const items: ItemRecord[] = [];
    for (const plan of itemsFor(timer, escalationsBefore, this.#options.crisisLine)) {
      if (plan.audience !== 'crisis_line') {
        items.push({ ...plan, candidates: [], consentCoversReader: false, note: '' });
        continue;
      }
      const notes: string[] = [];
      const [candidates, covers] = await Promise.all([
        this.#directory
          .candidates(timer.needs, timer.priority, timer.toAgency, [timer.toAgency, timer.fromAgency, plan.forAgency])
          .catch(() => {
            notes.push('the directory did not answer: no suggestions');
            return [];
          }),
        this.#consent.covers(timer.subjectRef, plan.forAgency).catch((error: unknown) => {
          this.#log.warn({ timer: timer.id, err: error }, 'consent could not be asked for the crisis line');
          return undefined;
        }),
      ]);
      if (covers === undefined) notes.push('consent could not be asked: read the referral to see what it allows');
      else if (!covers) notes.push("the person's consent does not cover the crisis line: metadata only");
      items.push({ ...plan, candidates, consentCoversReader: covers === true, note: notes.join('; ') });
    }
    return items;
  }
}

/** Tried again later, backing off from half a second to a minute. */
function retry(timer: TimerRecord, error: string): Settlement {
  return { timerId: timer.id, kind: 'retry', error, delayMs: Math.min(60_000, 500 * 2 ** timer.attempts) };
}
