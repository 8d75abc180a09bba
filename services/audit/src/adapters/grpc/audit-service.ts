import { authenticate, type Caller, type TokenVerifier } from '@passage/auth';
import { audit as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { AuditQueries } from '../../app/audit-queries.ts';
import type { HandoffRow, StageFigures } from '../../app/ports.ts';
import type { PublishedCell, TimeWindow } from '../../domain/index.ts';

export const auditServiceName = 'passage.audit.v1.AuditService';
/** What the server announces when it opens, before the handlers are ready. */
export const auditContract: ServiceContract = { name: auditServiceName, definition: pb.AuditServiceService };

const windowOf = (range: pb.TimeRange | undefined): TimeWindow => ({ since: range?.since, until: range?.until });

const cellToWire = (cell: PublishedCell): pb.Cell => ({ suppressed: cell.suppressed, count: cell.count });

const stageToWire = (figures: StageFigures): pb.StageFigures => ({ suppressed: false, ...figures });

function handoffRowToWire(row: HandoffRow): pb.HandoffRow {
  return {
    ...row,
    acknowledge: stageToWire(row.acknowledge),
    accept: stageToWire(row.accept),
    firstContact: stageToWire(row.firstContact),
    close: stageToWire(row.close),
    outcomes: row.outcomes.map((o) => ({ outcome: o.outcome, count: cellToWire(o.count) })),
  };
}

export function auditService(queries: AuditQueries, verifier: TokenVerifier, log: Logger): ServiceBinding {
  return bindService<pb.AuditServiceServer, Caller>(
    auditServiceName,
    pb.AuditServiceService,
    {
      query: async (request, { caller }) => {
        const page = await queries.query(caller, {
          subjectRef: request.subjectRef,
          referralId: request.referralId,
          agencyId: request.agencyId,
          actorUser: request.actorUser,
          action: request.action,
          window: windowOf(request.range),
          cursor: request.cursor,
          limit: request.limit,
        });
        return { entries: page.entries, nextCursor: page.nextCursor };
      },
      accessLog: async (request, { caller }) => ({
        subjectRef: request.subjectRef,
        records: (await queries.accessLog(caller, request.subjectRef, windowOf(request.range))).map((r) => ({
          ...r,
          categories: [...r.categories],
          consentIds: [...r.consentIds],
        })),
      }),
      findAccessLog: async (request, { caller }) => {
        const found = await queries.findAccessLog(caller, request.reference, windowOf(request.range));
        return {
          foundAs: found.foundAs,
          subjectRefs: found.subjectRefs,
          records: found.records.map((r) => ({ ...r, categories: [...r.categories], consentIds: [...r.consentIds] })),
        };
      },
      handoffReport: async (request, { caller }) => {
        const report = await queries.handoff(caller, request.groupBy, windowOf(request.range));
        return {
          groupBy: report.groupBy,
          rows: report.rows.map(handoffRowToWire),
          total: handoffRowToWire(report.total),
          approximate: report.approximate,
        };
      },
      handoffReferrals: async (request, { caller }) => {
        const page = await queries.handoffReferrals(caller, {
          groupBy: request.groupBy,
          group: request.group,
          figure: request.figure,
          range: windowOf(request.range),
          cursor: request.cursor,
          limit: request.limit,
        });
        return { referrals: page.referrals, nextCursor: page.nextCursor };
      },
      consentReport: async (request, { caller }) => {
        const figures = await queries.consent(caller, windowOf(request.range));
        return {
          ...figures,
          consents: [...figures.consents],
          accesses: [...figures.accesses],
          policeAccess: [...figures.policeAccess],
          revocations: figures.revocations.map((r) => ({ ...r, referrals: [...r.referrals] })),
        };
      },
      statisticsReport: async (request, { caller }) => {
        const table = await queries.statistics(caller, request.rows, request.columns, windowOf(request.range));
        return {
          columnLabels: [...table.columnLabels],
          rows: table.rowLabels.map((label, r) => ({
            label,
            cells: (table.cells[r] ?? []).map(cellToWire),
            total: cellToWire(table.rowTotals[r]!),
          })),
          totals: { label: 'total', cells: table.columnTotals.map(cellToWire), total: cellToWire(table.grandTotal) },
          threshold: queries.statisticsThreshold,
        };
      },
      latestCheckpoint: async (_request, { caller }) => {
        const latest = await queries.latestCheckpoint(caller);
        return {
          checkpoint: latest
            ? { origin: queries.origin, treeSize: latest.treeSize, rootHash: latest.rootHash, note: latest.note }
            : undefined,
          verifierKey: queries.verifierKey,
        };
      },
      inclusionProof: async (request, { caller }) => {
        const proof = await queries.inclusionProof(caller, request.seq, request.treeSize);
        return { seq: request.seq, treeSize: request.treeSize, ...proof };
      },
      consistencyProof: async (request, { caller }) => ({
        proof: await queries.consistencyProof(caller, request.oldSize, request.newSize),
      }),
      verify: async (request, { caller }) => {
        const result = await queries.verify(caller, request.checkpointNote);
        return {
          ok: result.ok,
          treeSize: result.treeSize,
          checkpointsChecked: result.checkpointsChecked,
          firstBadSeq: result.firstBadSeq ?? -1,
          problem: result.problem ?? '',
          latest: result.latest
            ? {
                origin: result.latest.origin,
                treeSize: result.latest.treeSize,
                rootHash: result.latest.rootHash,
                note: '',
              }
            : undefined,
          signedEntries: result.signed?.entries ?? 0,
          signedBytes: result.signed?.bytes ?? 0,
          unsignedEntries: result.unsignedTail?.entries ?? 0,
          unsignedBytes: result.unsignedTail?.bytes ?? 0,
        };
      },
      ingestStatus: (_request, { caller }) =>
        Promise.resolve({
          streams: queries.ingestStatus(caller).map((s) => ({
            stream: s.stream,
            state: s.state,
            detail: s.detail,
            gap: s.gap && { ...s.gap },
          })),
        }),
      acknowledgeGap: async (request, { caller }) =>
        queries.acknowledgeGap(caller, request.stream, {
          lastStoredSeq: request.lastStoredSeq,
          firstSeq: request.firstSeq,
        }),
    },
    log,
    { authenticate: (metadata) => authenticate(metadata, verifier) },
  );
}
