// What benchmarks and other packages' tests may do to the audit service's tables through its
// own stores, without importing its adapters: append a log of synthetic entries (real leaves,
// real tree) and compute a hand-off report exactly. Synthetic ids and codes only.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { PgLogStore } from '../src/adapters/db/log-store.ts';
import { PgReportStore } from '../src/adapters/db/report-store.ts';
import type { IncomingEvent } from '../src/app/ports.ts';

/** Appends `count` synthetic entries through the service's store, in batches, as ingest would. */
export async function seedLog(pool: pg.Pool, count: number, stream: string): Promise<void> {
  const store = new PgLogStore(pool);
  const batch = 5000;
  const receivedAt = new Date(Date.UTC(2026, 10, 1));
  for (let start = 0; start < count; start += batch) {
    const events: IncomingEvent[] = Array.from({ length: Math.min(batch, count - start) }, (_, i) => {
      const id = randomUUID();
      const referralId = randomUUID();
      return {
        eventId: id,
        subject: 'referral.v1.peel-regional-police.london-coalition.sent',
        stream,
        streamSeq: start + i + 1,
        receivedAt,
        event: {
          id,
          type: 'referral.v1.sent',
          occurredAt: receivedAt.toISOString(),
          actor: { agency: 'peel-regional-police', user: 'synthetic-officer', role: 'officer' },
          referralId,
          fromAgency: 'peel-regional-police',
          toAgency: 'london-coalition',
          priority: 'standard',
          referralChanged: { referralId, state: 'sent', version: 1, needs: ['counselling'] },
        },
        fields: {
          action: 'referral.v1.sent',
          occurredAt: receivedAt,
          actorAgency: 'peel-regional-police',
          actorUser: 'synthetic-officer',
          actorRole: 'officer',
          referralId,
          subjectRef: '',
          fromAgency: 'peel-regional-police',
          toAgency: 'london-coalition',
        },
      };
    });
    await store.append(events, []);
  }
}

/** The hand-off report by agency over every referral, computed exactly from every duration (never from the rollup). */
export async function exactHandoffByAgency(pool: pg.Pool, now = new Date()): Promise<void> {
  const exact = new PgReportStore(pool, { exactLimit: Number.MAX_SAFE_INTEGER });
  await exact.handoff('agency', {}, { kind: 'all' }, now);
}
