import type { Metadata } from '@grpc/grpc-js';
import { authenticate, type TokenVerifier } from '@passage/auth';
import { audit as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { AuditQueries } from '../../app/audit-queries.ts';
import type { HandoffRow } from '../../app/ports.ts';
import type { PublishedCell, TimeWindow } from '../../domain/index.ts';

export const auditServiceName = 'passage.audit.v1.AuditService';
/** What the server announces when it opens, before the handlers are ready. */
export const auditContract: ServiceContract = { name: auditServiceName, definition: pb.AuditServiceService };

const windowOf = (range: pb.TimeRange | undefined): TimeWindow => ({ since: range?.since, until: range?.until });

const cellToWire = (cell: PublishedCell): pb.Cell => ({ suppressed: cell.suppressed, count: cell.count });

function handoffRowToWire(row: HandoffRow): pb.HandoffRow {
  return { ...row };
}

export function auditService(queries: AuditQueries, verifier: TokenVerifier, log: Logger): ServiceBinding {
  const reader = (metadata: Metadata) => authenticate(metadata, verifier);
  return bindService<pb.AuditServiceServer>(
    auditServiceName,
    pb.AuditServiceService,
    {
      query: async (request, { metadata }) => {
        const page = await queries.query(reader(metadata), {
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
      accessLog: async (request, { metadata }) => ({
        subjectRef: request.subjectRef,
        records: (await queries.accessLog(reader(metadata), request.subjectRef, windowOf(request.range))).map((r) => ({
          ...r,
          categories: [...r.categories],
          consentIds: [...r.consentIds],
        })),
      }),
      handoffReport: async (request, { metadata }) => {
        const report = await queries.handoff(reader(metadata), request.groupBy, windowOf(request.range));
        return {
          groupBy: report.groupBy,
          rows: report.rows.map(handoffRowToWire),
          total: handoffRowToWire(report.total),
          approximate: report.approximate,
        };
      },
      consentReport: async (request, { metadata }) => {
        const figures = await queries.consent(reader(metadata), windowOf(request.range));
        return {
          ...figures,
          consents: [...figures.consents],
          accesses: [...figures.accesses],
          policeAccess: [...figures.policeAccess],
        };
      },
      statisticsReport: async (request, { metadata }) => {
        const table = await queries.statistics(
          reader(metadata),
          request.rows,
          request.columns,
          windowOf(request.range),
        );
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
      latestCheckpoint: async (_request, { metadata }) => {
        const latest = await queries.latestCheckpoint(reader(metadata));
        return {
          checkpoint: latest
            ? { origin: queries.origin, treeSize: latest.treeSize, rootHash: latest.rootHash, note: latest.note }
            : undefined,
          verifierKey: queries.verifierKey,
        };
      },
      inclusionProof: async (request, { metadata }) => {
        const proof = await queries.inclusionProof(reader(metadata), request.seq, request.treeSize);
        return { seq: request.seq, treeSize: request.treeSize, ...proof };
      },
      consistencyProof: async (request, { metadata }) => ({
        proof: await queries.consistencyProof(reader(metadata), request.oldSize, request.newSize),
      }),
      verify: async (request, { metadata }) => {
        const result = await queries.verify(reader(metadata), request.checkpointNote);
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
      ingestStatus: (_request, { metadata }) =>
        Promise.resolve({
          streams: queries.ingestStatus(reader(metadata)).map((s) => ({
            stream: s.stream,
            state: s.state,
            detail: s.detail,
            gap: s.gap && { ...s.gap },
          })),
        }),
      acknowledgeGap: async (request, { metadata }) =>
        queries.acknowledgeGap(reader(metadata), request.stream, {
          lastStoredSeq: request.lastStoredSeq,
          firstSeq: request.firstSeq,
        }),
    },
    log,
  );
}
