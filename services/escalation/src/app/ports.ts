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

/** One due timer, held (row lock) until the work on it settles it one way or another. */
export interface ClaimedTimer {
  readonly timer: TimerRecord;
  /** Timers of the same referral that already fired. */
  readonly escalationsBefore: number;
  fired(items: readonly ItemRecord[]): Promise<void>;
  cancelled(reason: string): Promise<void>;
  retryLater(error: string, delayMs: number): Promise<void>;
}

export interface TimerStore {
  /** Claims the most overdue timer no other instance holds and runs `work` on it; false when none is due. */
  withDueTimer(now: Date, work: (claim: ClaimedTimer) => Promise<void>): Promise<boolean>;
  nextDueAt(): Promise<Date | undefined>;
  timers(state: string, limit: number): Promise<TimerRecord[]>;
  items(forAgency: string, withSupervisorItems: boolean, limit: number): Promise<StoredItem[]>;
}

export type EscalateOutcome = 'escalated' | 'target_met' | 'unknown_referral';

export interface ReferralsPort {
  /** Records the escalation in the referrals service, idempotently by key. Throws when unreachable. */
  escalate(referralId: string, target: Target, idempotencyKey: string): Promise<EscalateOutcome>;
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
