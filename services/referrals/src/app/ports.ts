import type { OpeningHours, SlaTargets } from '@passage/sla';
import type { DataCategory, Grant, Purpose, RecipientKind } from '@passage/consent-policy';
import type { shredded } from '@passage/crypto';
import type { Actor, ConsentGrant, Referral, State, Transition } from '../domain/referral.ts';
import type { Message } from '../domain/messages.ts';
import type { ListPosition, Rank } from '../domain/list-order.ts';

export interface SealedSection {
  readonly category: DataCategory;
  readonly sealed: Buffer;
}

export interface ListQuery {
  readonly agencyId: string;
  /** Received, sent, or either (search). */
  readonly side: 'inbox' | 'outbox' | 'both';
  readonly states: readonly State[];
  /** The number behind a short reference (domain/reference.ts). */
  readonly referenceNumber?: number | undefined;
  /** A consent receipt's reference, normalised (8 capital hexadecimal digits). */
  readonly receiptReference?: string | undefined;
  readonly sentFrom?: Date | undefined;
  readonly sentTo?: Date | undefined;
  /** Received referrals assigned to this user; '' for unassigned ones; undefined for all. */
  readonly assignedTo?: string | undefined;
  /** Where the previous page ended. */
  readonly after?: ListPosition | undefined;
  readonly limit: number;
}

/** One worker's open referrals (Caseload). */
export interface Workload {
  readonly userId: string;
  readonly open: number;
  readonly needsAction: number;
  readonly urgent: number;
  readonly escalated: number;
}

export interface ReferralRepository {
  /** Serialises sends and consent changes of one subject until the transaction ends. */
  lockSubject(subjectRef: string): Promise<void>;
  /** Remembers consent scopes that ended ('all': the whole consent). */
  recordEndedGrants(consentId: string, scopeIds: readonly string[] | 'all'): Promise<void>;
  setGrants(referralId: string, grants: readonly ConsentGrant[]): Promise<void>;
  get(id: string): Promise<Referral | undefined>;
  /** Saves `referral` if the stored version is still `expectedVersion`; false when someone else won. */
  update(referral: Referral, expectedVersion: number): Promise<boolean>;
  appendTransition(referralId: string, transition: Transition): Promise<void>;
  timeline(referralId: string): Promise<Transition[]>;
  /** In list order (domain/list-order.ts), each with its rank. */
  list(query: ListQuery): Promise<Array<{ referral: Referral; rank: Rank }>>;
  /** A receiving agency's open referrals by assignee; those nobody has, counted apart. */
  caseload(agencyId: string): Promise<{ workloads: Workload[]; unassigned: number }>;
  packet(referralId: string): Promise<SealedSection[]>;
  /** The internal note of a decline or close, and the agency that wrote it (its only reader). */
  setNote(referralId: string, sealed: Buffer, agencyId: string): Promise<void>;
  note(referralId: string): Promise<{ sealed: Buffer; agencyId: string } | undefined>;
  /** Open referrals that cite a consent (for revocation and expiry). */
  openCitingConsent(consentId: string): Promise<Referral[]>;
  openForSubject(subjectRef: string): Promise<Referral[]>;
  /** Drops every sealed packet, note and message body of a subject (erasure). */
  dropSubjectData(subjectRef: string): Promise<void>;
}

/** A message as stored: its body sealed, or null once destroyed. */
export interface SealedMessage {
  readonly message: Omit<Message, 'body'>;
  readonly sealed: Buffer | null;
}

export interface MessageRepository {
  /**
   * Stores a message under its author agency's idempotency key; false when the key was taken
   * meanwhile (a concurrent retry).
   */
  insert(message: SealedMessage & { readonly idempotencyKey: string; readonly requestHash: string }): Promise<boolean>;
  /** A message posted earlier under this key by this agency. */
  byKey(agencyId: string, key: string): Promise<(SealedMessage & { readonly requestHash: string }) | undefined>;
  /** The referral's messages, oldest first. */
  thread(referralId: string): Promise<SealedMessage[]>;
  count(referralId: string): Promise<number>;
  /** True once the retention schedule destroyed the referral's sealed data (no more messages then). */
  sealedDataDestroyed(referralId: string): Promise<boolean>;
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
  /** What was read: empty for the referral (Get); referral_messages for its thread. */
  readonly record?: string;
}

export interface ReferralEvents {
  changed(referral: Referral, transition: Transition): Promise<void>;
  access(record: AccessRecord): Promise<void>;
  /** referral.v1.<from>.<to>.message_posted: ids only, never the body. */
  messagePosted(referral: Referral, message: Omit<Message, 'body'>): Promise<void>;
}

export interface SendRecord {
  readonly referral: Referral;
  readonly packet: readonly SealedSection[];
  readonly transition: Transition;
  readonly idempotency: { agencyId: string; key: string; command: string; requestHash: string };
}

/** 'sent'; 'key_taken' by a concurrent retry; 'grants_ended' by a revocation since consent was asked (nothing written). */
export type SendOutcome = 'sent' | 'key_taken' | 'grants_ended';

/** A Send's transaction (docs/adr/0049-send-on-prepared-statements.md). */
export interface SendTransaction {
  /**
   * Opens the transaction (the first call): takes the subject's lock, as lockSubject does,
   * held to commit, and gives the next reference number.
   */
  lockAndNumber(subjectRef: string): Promise<number>;
  /**
   * Writes a Send — key, referral, packet, transition and its event — at once; with
   * `andCommit` the transaction commits with it (nothing may follow in it).
   */
  record(send: SendRecord, andCommit: boolean): Promise<SendOutcome>;
  /** The grants among `grants` that have not ended. */
  withoutEndedGrants(grants: readonly ConsentGrant[]): Promise<ConsentGrant[]>;
  /**
   * Names the other referral of an after-hours pair on `referralId` (bookkeeping, no new
   * version); false when it already names one.
   */
  link(referralId: string, linkedReferralId: string, linkedAgency: string): Promise<boolean>;
  readonly vault: Vault;
}

/** Where Sends are written: the network's hot path, apart from the ORM. */
export interface SendStorage {
  /** The caller's earlier command under its idempotency key (every command's replay starts here). */
  findKey(agencyId: string, key: string): Promise<IdempotencyRecord | undefined>;
  transaction<T>(work: (tx: SendTransaction) => Promise<T>): Promise<T>;
}

export interface ReferralTransaction {
  readonly referrals: ReferralRepository;
  readonly messages: MessageRepository;
  readonly idempotency: IdempotencyStore;
  readonly vault: Vault;
  readonly events: ReferralEvents;
}

export interface ReferralStorage {
  transaction<T>(work: (tx: ReferralTransaction) => Promise<T>): Promise<T>;
  reader(): Omit<ReferralTransaction, 'events'>;
  readonly sends: SendStorage;
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
