import { verifyLog, type AuditEntry, type Canonical, type LogVerification } from '@passage/audit-log';
import { PassageError } from '@passage/errors';
import {
  canReadLog,
  checkWindow,
  parseAccessReference,
  parseGrouping,
  parseHandoffFigure,
  parseReferralCursor,
  referralCursor,
  parseStatisticsAxes,
  reportScope,
  suppress,
  type AccessReferenceKind,
  type PublishedTable,
  type Reader,
  type ReportScope,
  type TimeWindow,
} from '../domain/index.ts';
import type { Checkpointer } from './checkpointer.ts';
import type {
  ConsentFigures,
  EntryQuery,
  HandoffRow,
  IngestControl,
  ReferralSummary,
  LogSource,
  LogStore,
  ReportStore,
  StoredCheckpoint,
  StoredEntryRow,
  StreamIngestStatus,
} from './ports.ts';

export interface AccessLogRecord {
  readonly seq: number;
  readonly at: Date;
  readonly actorUser: string;
  readonly actorAgency: string;
  readonly actorRole: string;
  readonly subjectRef: string;
  readonly categories: readonly string[];
  readonly outcome: string;
  readonly purpose: string;
  readonly reason: string;
  readonly referralId: string;
  readonly consentIds: readonly string[];
  /** What was read: empty for a referral; consent_receipt or consent_history. */
  readonly record: string;
}

const statisticsThreshold = 5;

/** The read side of the audit service: every query checks who asks, then what is asked. */
export class AuditQueries {
  readonly #log: LogStore;
  readonly #reports: ReportStore;
  readonly #source: LogSource;
  readonly #checkpointer: Checkpointer;
  readonly #origin: string;
  readonly #ingest: IngestControl;

  constructor(
    log: LogStore,
    reports: ReportStore,
    source: LogSource,
    checkpointer: Checkpointer,
    origin: string,
    ingest: IngestControl,
  ) {
    this.#ingest = ingest;
    this.#log = log;
    this.#reports = reports;
    this.#source = source;
    this.#checkpointer = checkpointer;
    this.#origin = origin;
  }

  get origin(): string {
    return this.#origin;
  }

  get verifierKey(): string {
    return this.#checkpointer.verifierKey;
  }

  async query(reader: Reader, query: Omit<EntryQuery, 'afterSeq' | 'limit'> & { cursor: string; limit: number }) {
    requireLogReader(reader, 'reading the audit log');
    const limit = query.limit === 0 ? 100 : query.limit;
    if (limit < 1 || limit > 1000) throw invalid('limit', 'between 1 and 1000');
    const afterSeq = query.cursor === '' ? -1 : Number(query.cursor);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < -1)
      throw invalid('cursor', 'use the next_cursor of the previous page');
    const entries: StoredEntryRow[] = await this.#reports.query({
      ...query,
      window: window(query.window),
      afterSeq,
      limit,
    });
    return { entries, nextCursor: entries.length === limit ? String(entries.at(-1)!.seq) : '' };
  }

  async accessLog(reader: Reader, subjectRef: string, range: TimeWindow): Promise<AccessLogRecord[]> {
    requireLogReader(reader, "reading a person's access log");
    if (!/^[0-9a-f-]{36}$/i.test(subjectRef))
      throw invalid('subject_ref', 'the pseudonymous subject reference (a UUID)');
    const rows = await this.#reports.accessLog(subjectRef.toLowerCase(), window(range));
    return rows.map(({ seq, entry }) => accessRecord(seq, entry));
  }

  /** A person's access log found by a referral id, a receipt reference or the subject reference. */
  async findAccessLog(
    reader: Reader,
    raw: string,
    range: TimeWindow,
  ): Promise<{ foundAs: AccessReferenceKind | ''; subjectRefs: string[]; records: AccessLogRecord[] }> {
    requireLogReader(reader, "reading a person's access log");
    const reference = parseAccessReference(raw);
    const checked = window(range);
    let subjectRefs = await this.#reports.subjectsFor(reference);
    let foundAs: AccessReferenceKind | '' = subjectRefs.length > 0 ? reference.kind : '';
    if (subjectRefs.length === 0 && reference.kind === 'referral') {
      // Not a referral's id: the UUID may be the subject reference itself.
      subjectRefs = [reference.value];
      foundAs = 'subject';
    }
    const records: AccessLogRecord[] = [];
    for (const subjectRef of subjectRefs) {
      const rows = await this.#reports.accessLog(subjectRef, checked);
      records.push(...rows.map(({ seq, entry }) => accessRecord(seq, entry)));
    }
    records.sort((a, b) => a.seq - b.seq);
    return { foundAs: foundAs === 'subject' && records.length === 0 ? '' : foundAs, subjectRefs, records };
  }

  async handoff(reader: Reader, groupBy: string, range: TimeWindow, now = new Date()) {
    const scope = requireReportReader(reader);
    const grouping = parseGrouping(groupBy);
    return { groupBy: grouping, ...(await this.#reports.handoff(grouping, window(range), scope, now)) } satisfies {
      groupBy: string;
      rows: HandoffRow[];
      total: HandoffRow;
      approximate: boolean;
    };
  }

  /**
   * The referrals behind one figure of the hand-off report (metadata only), a page at a time.
   * The same readers and scope as the report; like the report, not itself an audited access
   * (it shows no one's data, only ids, agencies, states and times).
   */
  async handoffReferrals(
    reader: Reader,
    request: { groupBy: string; group: string; figure: string; range: TimeWindow; cursor: string; limit: number },
    now = new Date(),
  ): Promise<{ referrals: ReferralSummary[]; nextCursor: string }> {
    const scope = requireReportReader(reader);
    const grouping = parseGrouping(request.groupBy);
    const figure = parseHandoffFigure(request.figure);
    const limit = request.limit === 0 ? 100 : request.limit;
    if (limit < 1 || limit > 500) throw invalid('limit', 'between 1 and 500');
    const referrals = await this.#reports.handoffReferrals({
      grouping,
      group: request.group === '' ? undefined : request.group,
      figure,
      window: window(request.range),
      scope,
      now,
      after: parseReferralCursor(request.cursor),
      limit,
    });
    return { referrals, nextCursor: referrals.length === limit ? referralCursor(referrals.at(-1)!) : '' };
  }

  async consent(reader: Reader, range: TimeWindow): Promise<ConsentFigures> {
    return this.#reports.consent(window(range), requireReportReader(reader));
  }

  async statistics(reader: Reader, rows: string, columns: string, range: TimeWindow): Promise<PublishedTable> {
    const scope = requireReportReader(reader);
    const axes = parseStatisticsAxes(rows, columns);
    const counts = await this.#reports.statistics(axes.rows, axes.columns, window(range), scope);
    const rowLabels = [...counts.keys()].sort();
    const columnLabels = [...new Set([...counts.values()].flatMap((line) => [...line.keys()]))].sort();
    return suppress(
      {
        rowLabels,
        columnLabels,
        counts: rowLabels.map((r) => columnLabels.map((c) => counts.get(r)?.get(c) ?? 0)),
      },
      statisticsThreshold,
    );
  }

  get statisticsThreshold(): number {
    return statisticsThreshold;
  }

  async latestCheckpoint(reader: Reader): Promise<StoredCheckpoint | undefined> {
    requireLogReader(reader, 'reading checkpoints');
    return this.#log.latestCheckpoint();
  }

  async inclusionProof(reader: Reader, seq: number, treeSize: number) {
    requireLogReader(reader, 'proving entries');
    const size = await this.#log.size();
    if (!(treeSize >= 1 && treeSize <= size)) throw invalid('tree_size', `between 1 and the log's size, ${size}`);
    if (!(seq >= 0 && seq < treeSize)) throw invalid('seq', `an entry of the tree: 0 to ${treeSize - 1}`);
    return this.#log.inclusion(seq, treeSize);
  }

  async consistencyProof(reader: Reader, oldSize: number, newSize: number) {
    requireLogReader(reader, 'proving consistency');
    const size = await this.#log.size();
    if (!(newSize >= 1 && newSize <= size)) throw invalid('new_size', `between 1 and the log's size, ${size}`);
    if (!(oldSize >= 1 && oldSize <= newSize)) throw invalid('old_size', `between 1 and new_size, ${newSize}`);
    return this.#log.consistency(oldSize, newSize);
  }

  async verify(reader: Reader, savedNote: string): Promise<LogVerification> {
    requireLogReader(reader, 'verifying the audit log');
    return verifyLog({
      entries: this.#source.entries(),
      checkpointNotes: await this.#source.checkpointNotes(),
      verifierKey: this.#checkpointer.verifierKey,
      savedNote: savedNote === '' ? undefined : savedNote,
    });
  }

  ingestStatus(reader: Reader): StreamIngestStatus[] {
    requireLogReader(reader, 'reading the ingest status');
    return this.#ingest.status();
  }

  /** An administrator's acknowledgement of a stream's gap: written into the log, then reading resumes. */
  async acknowledgeGap(
    caller: Reader & { readonly userId: string },
    stream: string,
    expected: { lastStoredSeq: number; firstSeq: number },
  ): Promise<{ seq: number; resumeAfterSeq: number }> {
    if (!caller.roles.includes('admin')) {
      throw new PassageError('permission_denied', 'acknowledging a gap in the audit log needs the admin role');
    }
    if (stream === '') throw invalid('stream', 'the stream stopped at a gap, as the ingest status names it');
    if (!(expected.lastStoredSeq >= 0 && expected.firstSeq >= 0)) {
      throw invalid(expected.lastStoredSeq < 0 ? 'last_stored_seq' : 'first_seq', 'a stream sequence (0: not checked)');
    }
    return this.#ingest.acknowledgeGap(
      stream,
      { agency: caller.agencyId, user: caller.userId, role: 'admin' },
      expected,
    );
  }
}

function invalid(field: string, description: string): PassageError {
  return PassageError.invalid([{ field, description }]);
}

function window(range: TimeWindow): TimeWindow {
  return checkWindow(range);
}

function requireLogReader(reader: Reader, action: string): void {
  if (!canReadLog(reader)) throw new PassageError('permission_denied', `${action} needs the auditor or admin role`);
}

function requireReportReader(reader: Reader): ReportScope {
  const scope = reportScope(reader);
  if (!scope) {
    throw new PassageError(
      'permission_denied',
      'reports need the auditor or admin role, or a supervisor for its own agency',
    );
  }
  return scope;
}

function accessRecord(seq: number, entry: AuditEntry): AccessLogRecord {
  const event = entry.event as Record<string, Canonical>;
  const actor = (event['actor'] ?? {}) as Record<string, Canonical>;
  const access = (event['accessRecorded'] ?? {}) as Record<string, Canonical>;
  const text = (value: Canonical | undefined): string => (typeof value === 'string' ? value : '');
  const list = (value: Canonical | undefined): string[] =>
    Array.isArray(value) ? value.map((v) => text(v as Canonical)) : [];
  return {
    seq,
    at: new Date(text(event['occurredAt']) || entry.receivedAt.toISOString()),
    actorUser: text(actor['user']),
    actorAgency: text(actor['agency']),
    actorRole: text(actor['role']),
    subjectRef: text(event['subjectRef']),
    categories: list(access['categories']),
    outcome: text(access['outcome']),
    purpose: text(access['purpose']),
    reason: text(access['reason']),
    referralId: text(access['referralId']),
    consentIds: list(access['consentIds']),
    record: text(access['record']),
  };
}
