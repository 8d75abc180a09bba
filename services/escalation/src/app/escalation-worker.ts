import { untraced, type Logger } from '@passage/platform';
import { itemsFor } from '../domain/index.ts';
import type { ClaimedTimer, ConsentPort, DirectoryPort, ItemRecord, ReferralsPort, TimerStore } from './ports.ts';

export interface WorkerOptions {
  readonly crisisLine: string;
  /** Longest sleep between looks for due timers. */
  readonly pollMs: number;
  /** Timers worked on at once by this instance. */
  readonly concurrency: number;
  /** The clock timers fall due by: the wall clock unless a test moves time on. */
  readonly now?: () => Date;
}

/**
 * Fires due timers: records the escalation with the referrals service (idempotent by the
 * timer's id, so a timer claimed again after a crash escalates once), then leaves the items
 * for the crisis line, the sender and, on a second miss, the receiving supervisors — in the
 * transaction that marks the timer fired. Several instances share the work through
 * `FOR UPDATE SKIP LOCKED`.
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

  /** Fires one due timer if there is one. */
  fireNext(now = this.#now()): Promise<boolean> {
    return this.#store.withDueTimer(now, (claim) => this.#fire(claim));
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

  async #fire(claim: ClaimedTimer): Promise<void> {
    const { timer } = claim;
    let outcome;
    try {
      outcome = await this.#referrals.escalate(timer.referralId, timer.target, `timer-${timer.id}`);
    } catch (error) {
      const delay = Math.min(60_000, 500 * 2 ** timer.attempts);
      this.#log.warn({ timer: timer.id, err: error }, 'referrals could not record the escalation; retrying');
      await claim.retryLater((error as Error).message.slice(0, 500), delay);
      return;
    }
    if (outcome !== 'escalated') {
      await claim.cancelled(outcome);
      return;
    }
    const items: ItemRecord[] = [];
    for (const plan of itemsFor(timer, claim.escalationsBefore, this.#options.crisisLine)) {
      if (plan.audience !== 'crisis_line') {
        items.push({ ...plan, candidates: [], consentCoversReader: false, note: '' });
        continue;
      }
      const notes: string[] = [];
      const candidates = await this.#directory
        .candidates(timer.needs, timer.priority, timer.toAgency, [timer.toAgency, timer.fromAgency, plan.forAgency])
        .catch(() => {
          notes.push('the directory did not answer: no suggestions');
          return [];
        });
      const covers = await this.#consent.covers(timer.subjectRef, plan.forAgency).catch((error: unknown) => {
        this.#log.warn({ timer: timer.id, err: error }, 'consent could not be asked for the crisis line');
        return undefined;
      });
      if (covers === undefined) notes.push('consent could not be asked: read the referral to see what it allows');
      else if (!covers) notes.push("the person's consent does not cover the crisis line: metadata only");
      items.push({ ...plan, candidates, consentCoversReader: covers === true, note: notes.join('; ') });
    }
    await claim.fired(items);
  }
}
