import type { OpeningHours, SlaTargets } from '@passage/sla';
import type { DataCategory, Grant, Purpose, RecipientKind } from '@passage/consent-policy';
import type { shredded } from '@passage/crypto';
import type { Actor, ConsentGrant, Referral, State, Transition } from '../domain/referral.ts';

export interface SealedSection {
  readonly category: DataCategory;
  readonly sealed: Buffer;
}

export interface ListQuery {
  readonly agencyId: string;
  readonly side: 'inbox' | 'outbox';
  readonly states: readonly State[];
  readonly offset: number;
  readonly limit: number;
}

export interface ReferralRepository {
  /** Serialises sends and consent changes of one subject until the transaction ends. */
  lockSubject(subjectRef: string): Promise<void>;
  /** Remembers consent scopes that ended ('all': the whole consent). */
  recordEndedGrants(consentId: string, scopeIds: readonly string[] | 'all'): Promise<void>;
  /** The grants among `grants` that have not ended. */
  withoutEndedGrants(grants: readonly ConsentGrant[]): Promise<ConsentGrant[]>;
  /**
   * Names the other referral of an after-hours pair on `referralId` (bookkeeping, no new
   * version); false when it already names one.
   */
  link(referralId: string, linkedReferralId: string, linkedAgency: string): Promise<boolean>;
  setGrants(referralId: string, grants: readonly ConsentGrant[]): Promise<void>;
  get(id: string): Promise<Referral | undefined>;
  /** Saves `referral` if the stored version is still `expectedVersion`; false when someone else won. */
  update(referral: Referral, expectedVersion: number): Promise<boolean>;
  appendTransition(referralId: string, transition: Transition): Promise<void>;
  timeline(referralId: string): Promise<Transition[]>;
  list(query: ListQuery): Promise<Referral[]>;
  packet(referralId: string): Promise<SealedSection[]>;
  setNote(referralId: string, sealed: Buffer): Promise<void>;
  note(referralId: string): Promise<Buffer | undefined>;
  /** Open referrals that cite a consent (for revocation and expiry). */
  openCitingConsent(consentId: string): Promise<Referral[]>;
  openForSubject(subjectRef: string): Promise<Referral[]>;
  /** Drops every sealed packet and note of a subject (erasure). */
  dropSubjectData(subjectRef: string): Promise<void>;
}

/** The first result of a command, kept under its idempotency key. */
export interface IdempotencyRecord {
  readonly command: string;
  readonly requestHash: string;
  readonly referral: Referral;
}

export interface IdempotencyStore {
  find(agencyId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** False when the key was taken meanwhile (a concurrent retry). */
  save(agencyId: string, key: string, record: IdempotencyRecord): Promise<boolean>;
}

export interface Vault {
  encrypt(subjectRef: string, field: string, plaintext: string): Promise<Buffer>;
  encryptAll(subjectRef: string, fields: ReadonlyArray<{ field: string; plaintext: string }>): Promise<Buffer[]>;
  decrypt(subjectRef: string, field: string, sealed: Buffer): Promise<string | typeof shredded>;
  shred(subjectRef: string): Promise<boolean>;
}

export interface AccessRecord {
  readonly actor: Actor;
  readonly referral: Referral;
  readonly outcome: 'granted' | 'denied';
  readonly categories: readonly DataCategory[];
  readonly consentIds: readonly string[];
  readonly purpose: string;
  readonly reason: string;
}

export interface ReferralEvents {
  changed(referral: Referral, transition: Transition): Promise<void>;
  access(record: AccessRecord): Promise<void>;
}

export interface SendRecord {
  readonly referral: Referral;
  readonly packet: readonly SealedSection[];
  readonly transition: Transition;
  readonly idempotency: { agencyId: string; key: string; command: string; requestHash: string };
}

/** 'sent'; 'key_taken' by a concurrent retry; 'grants_ended' by a revocation since consent was asked (nothing written). */
export type SendOutcome = 'sent' | 'key_taken' | 'grants_ended';

/** Writes a Send — key, referral, packet, transition and its event — at once. */
export interface SendRecorder {
  record(send: SendRecord): Promise<SendOutcome>;
}

export interface ReferralTransaction {
  readonly sends: SendRecorder;
  readonly referrals: ReferralRepository;
  readonly idempotency: IdempotencyStore;
  readonly vault: Vault;
  readonly events: ReferralEvents;
}

export interface ReferralStorage {
  transaction<T>(work: (tx: ReferralTransaction) => Promise<T>): Promise<T>;
  reader(): Omit<ReferralTransaction, 'events' | 'sends'>;
}

export interface AgencyFacts {
  readonly id: string;
  readonly kind: RecipientKind;
  readonly acceptingReferrals: boolean;
  readonly sla: SlaTargets;
  /** Standard targets count these hours only (packages/sla). */
  readonly hours: OpeningHours;
}

/** The directory, over gRPC. Throws `unavailable` when it cannot be reached. */
export interface DirectoryGateway {
  agency(id: string): Promise<AgencyFacts | undefined>;
}

export interface ConsentDecision {
  readonly allowed: ReadonlyMap<DataCategory, readonly Grant[]>;
  readonly doNotContact: boolean;
}

/** The consent service, over gRPC, asked with the caller's own token. Throws `unavailable` when unreachable. */
export interface ConsentGateway {
  evaluate(
    callerToken: string,
    request: { subjectRef: string; agencyId: string; kind: RecipientKind; purpose: Purpose },
  ): Promise<ConsentDecision>;
}
