import type { AuditEntry, Canonical, Hash } from '@passage/audit-log';
import type { AgencyHours } from '../domain/opening-hours.ts';
import type {
  AccessReference,
  HandoffFigure,
  HandoffGrouping,
  LoopFigures,
  ReportScope,
  StatisticsDimension,
  StreamGap,
  TimeWindow,
} from '../domain/index.ts';

/** The searchable fields of an entry, copied out of the event (ids and codes only). */
export interface EntryFields {
  readonly action: string;
  readonly occurredAt: Date | undefined;
  readonly actorAgency: string;
  readonly actorUser: string;
  readonly actorRole: string;
  readonly referralId: string;
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
}

export interface AgencyFact {
  readonly agencyId: string;
  readonly kind: string;
  readonly region: string;
  readonly version: number;
  /** Opening hours as published; undefined when the listing carries none. */
  readonly hours?: AgencyHours | undefined;
}

/** A referral as its latest event describes it: states and hand-off times, never the packet. */
export interface ReferralFact {
  readonly referralId: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  readonly state: string;
  readonly reason: string;
  readonly needs: readonly string[];
  readonly version: number;
  readonly sentAt: Date;
  readonly acknowledgedAt?: Date | undefined;
  readonly acceptedAt?: Date | undefined;
  readonly contactAt?: Date | undefined;
  readonly closedAt?: Date | undefined;
  readonly declinedAt?: Date | undefined;
  readonly withdrawnAt?: Date | undefined;
  readonly acknowledgeDueAt?: Date | undefined;
  readonly acceptDueAt?: Date | undefined;
  /** The referral this one sends on again (a resend), or ''. */
  readonly previousReferralId: string;
  /** Its short reference ("R-7K3M-Q9"), or '' on events that predate references. */
  readonly reference: string;
  /** On an escalation event: the target that passed unmet. */
  readonly escalated: 'acknowledge' | 'accept' | undefined;
}

/** One event from the bus, ready to become an entry. */
export interface IncomingEvent {
  readonly eventId: string;
  /** The subject without a deployment namespace. */
  readonly subject: string;
  /** Where the event sits on the bus: the log records how far it has read each stream. */
  readonly stream: string;
  readonly streamSeq: number;
  readonly receivedAt: Date;
  readonly event: Canonical;
  readonly fields: EntryFields;
  readonly agency?: AgencyFact | undefined;
  readonly referral?: ReferralFact | undefined;
}

/** An event that could not be read: kept with its error, never entered into the log. */
export interface ParkedEvent {
  readonly subject: string;
  readonly stream: string;
  readonly streamSeq: number;
  readonly payload: Uint8Array;
  readonly error: string;
}

/**
 * Where the log ends a stream (0: nothing read) and what it holds there: the event id of an
 * entry, the bytes of a parked event, or neither after a gap entry.
 */
export interface StreamHead {
  readonly position: number;
  readonly eventId?: string;
  readonly payload?: Buffer;
}

export interface StoredCheckpoint {
  readonly treeSize: number;
  readonly rootHash: Hash;
  readonly note: string;
}

export interface LogStore {
  /** Appends the events not yet in the log, in order, in one transaction; returns the new size. */
  append(events: readonly IncomingEvent[], parked: readonly ParkedEvent[]): Promise<{ appended: number; size: number }>;
  size(): Promise<number>;
  /** For each stream, the last stream sequence the log holds (an entry or a parked event). */
  positions(streams: readonly string[]): Promise<Map<string, number>>;
  /** A stream's position and what the log holds there, to compare with the stream. */
  streamHead(stream: string): Promise<StreamHead>;
  /** Appends a gap entry if the stream's position is still `expectedPosition`; FAILED_PRECONDITION otherwise. */
  appendGap(entry: IncomingEvent, expectedPosition: number): Promise<{ seq: number; size: number }>;
  rootAt(size: number): Promise<Hash>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  inclusion(seq: number, size: number): Promise<{ entry: Buffer; leafHash: Hash; path: Hash[] }>;
  consistency(oldSize: number, newSize: number): Promise<Hash[]>;
}

export interface StoredEntryRow extends EntryFields {
  readonly seq: number;
  readonly eventId: string;
  readonly receivedAt: Date;
  readonly canonical: string;
}

export interface EntryQuery {
  readonly subjectRef?: string | undefined;
  readonly referralId?: string | undefined;
  readonly agencyId?: string | undefined;
  readonly actorUser?: string | undefined;
  readonly action?: string | undefined;
  readonly window: TimeWindow;
  readonly afterSeq: number;
  readonly limit: number;
}

export interface AccessRow {
  readonly seq: number;
  readonly entry: AuditEntry;
}

export interface StageFigures {
  /** Set on the loop-closure figures only. */
  readonly suppressed?: boolean;
  readonly count: number;
  readonly p50Seconds: number;
  readonly p90Seconds: number;
  readonly maxSeconds: number;
}

export interface HandoffRow extends LoopFigures {
  readonly group: string;
  readonly referrals: number;
  readonly acknowledge: StageFigures;
  readonly accept: StageFigures;
  readonly firstContact: StageFigures;
  readonly close: StageFigures;
  readonly acknowledgedWithinSla: number;
  readonly acceptedWithinSla: number;
  readonly openPastDue: number;
  readonly escalations: number;
  /** Of the escalations, those for a missed acceptance (the rest: acknowledgement). */
  readonly acceptEscalations: number;
}

/** A referral behind a figure: ids, agencies, states and times from the projection, never the packet. */
export interface ReferralSummary {
  readonly referralId: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  readonly state: string;
  readonly reason: string;
  readonly sentAt: Date;
  readonly acknowledgedAt?: Date | undefined;
  readonly acceptedAt?: Date | undefined;
  readonly contactAt?: Date | undefined;
  readonly closedAt?: Date | undefined;
  readonly declinedAt?: Date | undefined;
  readonly withdrawnAt?: Date | undefined;
  readonly previousReferralId: string;
  readonly afterHours: boolean;
  /** Its short reference, or '' when the log has none for it. */
  readonly reference: string;
}

export interface HandoffReferralsQuery {
  readonly grouping: HandoffGrouping;
  /** The row's group value; undefined: every group (the total row). */
  readonly group: string | undefined;
  readonly figure: HandoffFigure;
  readonly window: TimeWindow;
  readonly scope: ReportScope;
  readonly now: Date;
  /** Strictly after this (sent_at, referral_id), or from the start. */
  readonly after: { sentAt: Date; referralId: string } | undefined;
  readonly limit: number;
}

export interface ConsentFigures {
  readonly consents: readonly {
    agencyId: string;
    method: string;
    granted: number;
    revoked: number;
    expired: number;
  }[];
  readonly referralsWithdrawnByRevocation: number;
  readonly accesses: readonly { agencyId: string; category: string; granted: number; denied: number }[];
  readonly accessesDenied: number;
  /** Consent honoured: each revocation in the window and the referrals it covered. */
  readonly revocations: readonly {
    consentId: string;
    revokedAt: Date | undefined;
    all: boolean;
    referrals: {
      referralId: string;
      firstRefusedAt: Date | undefined;
      grantedAfter: number;
      state: string;
      fromAgency: string;
      toAgency: string;
    }[];
  }[];
  /** Every consent scope that lets police read (ADR 22), with an event in the window. */
  readonly policeAccess: readonly {
    consentId: string;
    scopeId: string;
    state: string;
    recordedByAgency: string;
    recordedAt: Date | undefined;
    policeAgencyIds: string[];
    allPolice: boolean;
    categories: string[];
    confirmedByAgency: string;
    confirmedAt: Date | undefined;
  }[];
}

export interface ReportStore {
  query(query: EntryQuery): Promise<StoredEntryRow[]>;
  accessLog(subjectRef: string, window: TimeWindow): Promise<AccessRow[]>;
  /** The subject references a reference names, from the log's entries (none when unknown). */
  subjectsFor(reference: AccessReference): Promise<string[]>;
  handoff(
    grouping: HandoffGrouping,
    window: TimeWindow,
    scope: ReportScope,
    now: Date,
  ): Promise<{ rows: HandoffRow[]; total: HandoffRow; approximate: boolean }>;
  /** The referrals behind one figure of the hand-off report, by sent_at then id. */
  handoffReferrals(query: HandoffReferralsQuery): Promise<ReferralSummary[]>;
  consent(window: TimeWindow, scope: ReportScope): Promise<ConsentFigures>;
  /** counts[row label][column label] of referrals sent in the window (needs count once per need). */
  statistics(
    rows: StatisticsDimension,
    columns: StatisticsDimension,
    window: TimeWindow,
    scope: ReportScope,
  ): Promise<Map<string, Map<string, number>>>;
}

/** What Verify reads: the stored entries in order (a page at a time) and the stored checkpoint notes. */
export interface LogSource {
  entries(): AsyncIterable<readonly { seq: number; entry: Buffer; leafHash?: Buffer | undefined }[]>;
  checkpointNotes(): Promise<string[]>;
}

/** How far ingest has got with one stream. */
export interface StreamIngestStatus {
  readonly stream: string;
  /** reading; stopped at a gap (until acknowledged); waiting (the stream cannot be read now, retried) */
  readonly state: 'opening' | 'reading' | 'stopped' | 'waiting';
  readonly gap?: StreamGap & { readonly detectedAt: Date };
  readonly detail: string;
}

/** The ingest side an administrator acts on: see each stream, acknowledge a gap. */
export interface IngestControl {
  status(): StreamIngestStatus[];
  acknowledgeGap(
    stream: string,
    actor: { readonly agency: string; readonly user: string; readonly role: string },
    expected: { readonly lastStoredSeq: number; readonly firstSeq: number },
  ): Promise<{ seq: number; resumeAfterSeq: number }>;
}
