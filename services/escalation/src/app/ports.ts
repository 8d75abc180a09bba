import type { Audience, Target } from '../domain/index.ts';

export interface TimerRecord {
  readonly id: string;
  readonly referralId: string;
  readonly target: Target;
  readonly dueAt: Date;
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  readonly needs: readonly string[];
  readonly state: 'pending' | 'fired' | 'cancelled';
  readonly firedAt: Date | undefined;
  readonly attempts: number;
  readonly lastError: string;
}

export interface Candidate {
  readonly agencyId: string;
  readonly nameEn: string;
  readonly nameFr: string;
  readonly reasons: readonly string[];
}

export interface ItemRecord {
  readonly audience: Audience;
  readonly forAgency: string;
  readonly candidates: readonly Candidate[];
  readonly consentCoversReader: boolean;
  readonly note: string;
}

export interface StoredItem extends ItemRecord {
  readonly id: string;
  readonly referralId: string;
  readonly missedTarget: Target;
  readonly dueAt: Date;
  readonly escalatedAt: Date;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
}

/** A claimed timer and how many timers of its referral had fired before the claim. */
export interface ClaimedTimer {
  readonly timer: TimerRecord;
  readonly escalationsBefore: number;
}

/** What the work on a claimed timer came to. */
export type Settlement =
  | { readonly timerId: string; readonly kind: 'fired'; readonly items: readonly ItemRecord[] }
  | { readonly timerId: string; readonly kind: 'cancelled'; readonly reason: string }
  | { readonly timerId: string; readonly kind: 'retry'; readonly error: string; readonly delayMs: number };

/**
 * Due timers, held (row locks) until the work on them settles each one way or another: all of
 * them at once, in the transaction that claimed them (ADR 47).
 */
export interface ClaimedBatch {
  /** Most overdue first; two timers of one referral in the order they fell due. */
  readonly timers: readonly ClaimedTimer[];
  /** Settles every claimed timer, one settlement each. */
  settle(settlements: readonly Settlement[]): Promise<void>;
}

export interface TimerStore {
  /**
   * Claims up to `limit` of the most overdue timers no other instance holds and runs `work` on
   * them in one transaction; returns how many it claimed (0 when none is due).
   */
  withDueTimers(now: Date, limit: number, work: (batch: ClaimedBatch) => Promise<void>): Promise<number>;
  /** The same for the given timers, those of them pending and not held elsewhere (a job queue's job names its timer). */
  withTimers(ids: readonly string[], now: Date, work: (batch: ClaimedBatch) => Promise<void>): Promise<number>;
  nextDueAt(): Promise<Date | undefined>;
  timers(state: string, limit: number): Promise<TimerRecord[]>;
  items(forAgency: string, withSupervisorItems: boolean, limit: number): Promise<StoredItem[]>;
}

/**
 * What became of one escalation: recorded (now or before, by its key), moot (target met, no
 * such referral), `busy` (the same key being recorded elsewhere at this moment) or `refused`
 * (with why).
 */
export type EscalateOutcome =
  | { readonly outcome: 'escalated' | 'target_met' | 'unknown_referral' | 'busy' }
  | { readonly outcome: 'refused'; readonly detail: string };

export interface Escalation {
  readonly referralId: string;
  readonly target: Target;
  readonly idempotencyKey: string;
}

export interface ReferralsPort {
  /**
   * Records the escalations in the referrals service, in one transaction, each idempotently by
   * its key; an outcome for each, in order. Throws when no answer comes (a retry finds by the
   * keys whatever was recorded).
   */
  escalateMany(escalations: readonly Escalation[]): Promise<EscalateOutcome[]>;
}

export interface DirectoryPort {
  /** Up to three agencies for the needs, near where `near` (an agency id) works, none of `excluding`. */
  candidates(
    needs: readonly string[],
    priority: string,
    near: string,
    excluding: readonly string[],
  ): Promise<Candidate[]>;
}

export interface ConsentPort {
  /** Whether consent lets `agencyId` read anything of the person for a referral now. */
  covers(subjectRef: string, agencyId: string): Promise<boolean>;
}
