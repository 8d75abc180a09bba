import type { DataCategory, RecipientKind } from '@passage/consent-policy';
import type { shredded } from '@passage/crypto';
import type { Actor, Change, ConsentRecord, ConsentScope } from '../domain/consent.ts';
import type { AgencyNames } from '../domain/receipt.ts';

/**
 * A read of a subject's consent data, for the audit log (audit.v1.access): who, which
 * subject and consents, what was read and which categories came back; never the data.
 */
export interface ConsentAccess {
  readonly actor: Actor;
  readonly subjectRef: string;
  readonly consentIds: readonly string[];
  readonly record: 'consent_receipt' | 'consent_history' | 'consent_record';
  readonly outcome: 'granted' | 'denied';
  readonly categories: readonly DataCategory[];
  readonly reason: string;
}

/** A scope that lets police read, as the consent report and the oversight feed are told of it. */
export interface PoliceAccess {
  readonly scopeId: string;
  readonly state: 'proposed' | 'confirmed' | 'granted';
  readonly policeAgencyIds: readonly string[];
  readonly allPolice: boolean;
  readonly categories: readonly string[];
}

/** Personal fields of a consent, sealed under the subject's data key. */
export interface SealedFields {
  readonly receiptName: Buffer | undefined;
  readonly notes: Buffer | undefined;
}

export interface ConsentRepository {
  /** Serialises writers of one subject until the transaction ends. */
  lockSubject(subjectRef: string): Promise<void>;
  bySubject(subjectRef: string): Promise<ConsentRecord[]>;
  /** With `forUpdate`, locks the row until the transaction ends. */
  get(consentId: string, forUpdate?: boolean): Promise<ConsentRecord | undefined>;
  insert(record: ConsentRecord, sealed: SealedFields): Promise<void>;
  sealedFields(consentId: string): Promise<SealedFields>;
  saveRevocation(consentId: string, scopeIds: readonly string[], whole: boolean, at: Date): Promise<void>;
  /** Appends an amendment's scopes to a consent (ADR 36). */
  addScopes(consentId: string, scopes: readonly ConsentScope[]): Promise<void>;
  /** Records the confirmation of a proposed scope (ADR 22). */
  confirmScope(consentId: string, scopeId: string, actor: Actor, at: Date): Promise<void>;
  /** Revokes every open consent of the subject and drops their sealed fields. */
  closeSubject(subjectRef: string, at: Date): Promise<string[]>;
  appendChange(subjectRef: string, change: Change): Promise<void>;
  changes(subjectRef: string): Promise<Change[]>;
  erasure(subjectRef: string): Promise<{ actor: Actor; at: Date } | undefined>;
  recordErasure(subjectRef: string, actor: Actor, reason: string, at: Date): Promise<void>;
  /** Claims consents whose expiry has passed and whose expiry was not yet announced. */
  claimExpired(now: Date, limit: number): Promise<ConsentRecord[]>;
}

/** The hot path of Evaluate: the subject's consents and the recipient's kind, in one round trip. */
export interface EvaluationReader {
  inputs(subjectRef: string, agencyId: string): Promise<{ consents: ConsentRecord[]; kind: RecipientKind | undefined }>;
}

/** What the directory has told this service about agencies (from directory.v1 events). */
export interface AgencyCatalogue {
  names(agencyIds: readonly string[]): Promise<Map<string, AgencyNames>>;
  /** The kind of each agency the directory has listed; an agency it has not listed is absent. */
  kinds(agencyIds: readonly string[]): Promise<Map<string, RecipientKind>>;
}

export interface Vault {
  encrypt(subjectRef: string, field: string, plaintext: string): Promise<Buffer>;
  decrypt(subjectRef: string, field: string, sealed: Buffer): Promise<string | typeof shredded>;
  shred(subjectRef: string): Promise<boolean>;
}

export interface ConsentEvents {
  granted(record: ConsentRecord, actor: Actor): Promise<void>;
  revoked(
    record: ConsentRecord,
    scopeIds: readonly string[],
    whole: boolean,
    reason: string,
    actor: Actor,
  ): Promise<void>;
  /** consent.v1.amended: scopes added to a consent, the receipt's new version (ADR 36). */
  amended(record: ConsentRecord, version: number, added: readonly ConsentScope[], actor: Actor): Promise<void>;
  expired(record: ConsentRecord): Promise<void>;
  /** consent.v1.police_access: a scope that lets police read was recorded or confirmed. */
  policeAccess(record: ConsentRecord, access: PoliceAccess, actor: Actor): Promise<void>;
  subjectErased(subjectRef: string, actor: Actor, at: Date): Promise<void>;
  /** audit.v1.access: a read of a receipt or a history, granted or refused. */
  access(access: ConsentAccess): Promise<void>;
}

/** The first result of a command, kept under its idempotency key. */
export interface IdempotencyRecord {
  readonly command: string;
  readonly requestHash: string;
  /** The answer as JSON (dates as ISO strings); never personal data. */
  readonly result: unknown;
}

export interface IdempotencyStore {
  find(agencyId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** False when the key was taken meanwhile (a concurrent retry). */
  save(agencyId: string, key: string, subjectRef: string, record: IdempotencyRecord): Promise<boolean>;
  /** Blanks the request hashes of a subject's commands (erasure): a hash over a grant covers the name. */
  forgetRequests(subjectRef: string): Promise<void>;
}

export interface ConsentTransaction {
  readonly consents: ConsentRepository;
  readonly idempotency: IdempotencyStore;
  readonly vault: Vault;
  readonly events: ConsentEvents;
  readonly agencies: AgencyCatalogue;
}

export interface ConsentStorage {
  /** Reads outside a transaction. */
  reader(): Omit<ConsentTransaction, 'events'>;
  readonly evaluation: EvaluationReader;
  transaction<T>(work: (tx: ConsentTransaction) => Promise<T>): Promise<T>;
}

/** Signs machine-readable receipts (JWS, Ed25519). */
export interface ReceiptSigner {
  readonly keyId: string;
  readonly publicKey: string;
  sign(payload: unknown): string;
}
