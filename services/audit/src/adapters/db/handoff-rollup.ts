import type pg from 'pg';
import type { ReferralFact } from '../../app/ports.ts';
import { bucketOf, histogramBuckets, torontoMonth } from '../../domain/index.ts';

const stages = [
  { column: 'acknowledge', at: (f: Partial<ReferralFact>) => f.acknowledgedAt },
  { column: 'accept', at: (f: Partial<ReferralFact>) => f.acceptedAt },
  { column: 'first_contact', at: (f: Partial<ReferralFact>) => f.contactAt },
  { column: 'close', at: (f: Partial<ReferralFact>) => f.closedAt },
] as const;

interface Delta {
  month: string;
  toAgency: string;
  priority: string;
  referrals: number;
  acknowledgedInTime: number;
  acceptedInTime: number;
  escalations: number;
  acceptEscalations: number;
  histograms: number[][];
  maxima: number[];
}

/**
 * Adds a batch's news to the hand-off rollup: a new referral counts once, a stage reached
 * for the first time adds its duration to that stage's histogram. Runs in the append
 * transaction, before the referral projection is updated, so "first time" is decided against
 * what the projection held before this batch.
 */
export async function addToHandoffRollup(
  client: pg.PoolClient,
  newest: readonly ReferralFact[],
  all: readonly ReferralFact[],
): Promise<void> {
  if (newest.length === 0) return;
  const { rows } = await client.query<{
    referral_id: string;
    version: string;
    acknowledged_at: Date | null;
    accepted_at: Date | null;
    contact_at: Date | null;
    closed_at: Date | null;
  }>(
    `select referral_id, version, acknowledged_at, accepted_at, contact_at, closed_at
     from audit.referrals where referral_id = any($1::uuid[])`,
    [newest.map((f) => f.referralId)],
  );
  const before = new Map(
    rows.map((row) => [
      row.referral_id,
      {
        version: Number(row.version),
        acknowledgedAt: row.acknowledged_at ?? undefined,
        acceptedAt: row.accepted_at ?? undefined,
        contactAt: row.contact_at ?? undefined,
        closedAt: row.closed_at ?? undefined,
      },
    ]),
  );
  const deltas = new Map<string, Delta>();
  const deltaFor = (fact: ReferralFact): Delta => {
    const month = torontoMonth(fact.sentAt);
    const key = `${month}|${fact.toAgency}|${fact.priority}`;
    let delta = deltas.get(key);
    if (!delta) {
      delta = {
        month,
        toAgency: fact.toAgency,
        priority: fact.priority,
        referrals: 0,
        acknowledgedInTime: 0,
        acceptedInTime: 0,
        escalations: 0,
        acceptEscalations: 0,
        histograms: stages.map(() => new Array<number>(histogramBuckets).fill(0)),
        maxima: stages.map(() => 0),
      };
      deltas.set(key, delta);
    }
    return delta;
  };
  for (const fact of newest) {
    const previous = before.get(fact.referralId);
    if (previous && previous.version >= fact.version) continue;
    const delta = deltaFor(fact);
    if (!previous) delta.referrals += 1;
    stages.forEach((stage, i) => {
      const at = stage.at(fact);
      if (!at || (previous && stage.at(previous))) return;
      const seconds = (at.getTime() - fact.sentAt.getTime()) / 1000;
      delta.histograms[i]![bucketOf(seconds)]! += 1;
      delta.maxima[i] = Math.max(delta.maxima[i]!, seconds);
      if (i === 0 && fact.acknowledgeDueAt && at <= fact.acknowledgeDueAt) delta.acknowledgedInTime += 1;
      if (i === 1 && fact.acceptDueAt && at <= fact.acceptDueAt) delta.acceptedInTime += 1;
    });
  }
  for (const fact of all) {
    if (!fact.escalated) continue;
    const delta = deltaFor(fact);
    delta.escalations += 1;
    if (fact.escalated === 'accept') delta.acceptEscalations += 1;
  }
  const list = [...deltas.values()];
  if (list.length === 0) return;
  const literal = (counts: readonly number[]): string => `{${counts.join(',')}}`;
  await client.query(
    `insert into audit.handoff_rollup as r (month, to_agency, priority, referrals, acknowledged_in_time, accepted_in_time,
       escalations, accept_escalations, acknowledge, accept, first_contact, close, acknowledge_max, accept_max,
       first_contact_max, close_max)
     select month, to_agency, priority, referrals, ack_in, accept_in, escalations, accept_escalations,
            h1::integer[], h2::integer[], h3::integer[], h4::integer[], m1, m2, m3, m4
     from unnest($1::date[], $2::text[], $3::text[], $4::integer[], $5::integer[], $6::integer[], $7::integer[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::float8[], $13::float8[], $14::float8[], $15::float8[],
                 $16::integer[])
       as d(month, to_agency, priority, referrals, ack_in, accept_in, escalations, h1, h2, h3, h4, m1, m2, m3, m4,
            accept_escalations)
     on conflict (month, to_agency, priority) do update set
       referrals = r.referrals + excluded.referrals,
       acknowledged_in_time = r.acknowledged_in_time + excluded.acknowledged_in_time,
       accepted_in_time = r.accepted_in_time + excluded.accepted_in_time,
       escalations = r.escalations + excluded.escalations,
       accept_escalations = r.accept_escalations + excluded.accept_escalations,
       acknowledge = audit.add_counts(r.acknowledge, excluded.acknowledge),
       accept = audit.add_counts(r.accept, excluded.accept),
       first_contact = audit.add_counts(r.first_contact, excluded.first_contact),
       close = audit.add_counts(r.close, excluded.close),
       acknowledge_max = greatest(r.acknowledge_max, excluded.acknowledge_max),
       accept_max = greatest(r.accept_max, excluded.accept_max),
       first_contact_max = greatest(r.first_contact_max, excluded.first_contact_max),
       close_max = greatest(r.close_max, excluded.close_max)`,
    [
      list.map((d) => d.month),
      list.map((d) => d.toAgency),
      list.map((d) => d.priority),
      list.map((d) => d.referrals),
      list.map((d) => d.acknowledgedInTime),
      list.map((d) => d.acceptedInTime),
      list.map((d) => d.escalations),
      ...stages.map((_, i) => list.map((d) => literal(d.histograms[i]!))),
      ...stages.map((_, i) => list.map((d) => d.maxima[i]!)),
      list.map((d) => d.acceptEscalations),
    ],
  );
}
