import type pg from 'pg';
import { decodeEntry } from '@passage/audit-log';
import { exactReferralLimit, handoffReport } from './handoff-queries.ts';
import { chainAcceptance, groupOverReferrals, inReport, outcomeOf } from './loop-closure-queries.ts';
import type {
  AccessRow,
  ConsentFigures,
  EntryQuery,
  HandoffReferralsQuery,
  HandoffRow,
  ReferralSummary,
  ReportStore,
  StoredEntryRow,
} from '../../app/ports.ts';
import {
  scopedAgency,
  type AccessReference,
  type HandoffFigure,
  type HandoffGrouping,
  type ReportScope,
  type StatisticsDimension,
  type TimeWindow,
} from '../../domain/index.ts';
import { iso } from './sql-values.ts';

const event = `(convert_from(e.entry, 'UTF8')::jsonb -> 'event')`;

/** Whitelisted SQL for each statistics dimension: the request names one, never writes SQL. */
const statisticsAxis: Record<StatisticsDimension, string> = {
  region: `coalesce(a.region, 'unknown')`,
  month: `to_char(r.sent_at at time zone 'America/Toronto', 'YYYY-MM')`,
  need: 'n.need',
  outcome: `case r.state when 'closed' then 'closed:' || r.reason when 'declined' then 'declined'
              when 'withdrawn' then 'withdrawn' else 'open' end`,
};

/** Whitelisted SQL for each figure a drill-down opens ($4: now). */
const figureCondition: Record<Exclude<HandoffFigure, { outcome: string }>, string> = {
  referrals: 'true',
  acknowledged: 'r.acknowledged_at is not null',
  accepted: 'r.accepted_at is not null',
  first_contact: 'r.contact_at is not null',
  closed: `r.state = 'closed'`,
  declined: `r.state = 'declined'`,
  withdrawn: `r.state = 'withdrawn'`,
  open: `r.state not in ('closed', 'declined', 'withdrawn')`,
  open_past_due: `r.state in ('sent', 'acknowledged')
    and ((r.state = 'sent' and r.acknowledge_due_at < $4) or r.accept_due_at < $4)`,
  escalated: 'r.escalations > 0',
  resent: 'exists (select 1 from audit.referrals n where n.previous_referral_id = r.referral_id)',
  accepted_anywhere: 'r.referral_id in (select root from accepted)',
  after_hours: 'r.after_hours',
  after_hours_first_contact: 'r.after_hours and r.contact_at is not null',
};

export class PgReportStore implements ReportStore {
  readonly #pool: pg.Pool;

  readonly #exactLimit: number;

  constructor(pool: pg.Pool, options: { exactLimit?: number } = {}) {
    this.#pool = pool;
    this.#exactLimit = options.exactLimit ?? exactReferralLimit;
  }

  async query(q: EntryQuery): Promise<StoredEntryRow[]> {
    const { rows } = await this.#pool.query<Record<string, unknown>>(
      `select e.seq, e.event_id, e.action, e.occurred_at, e.received_at, e.actor_agency, e.actor_user, e.actor_role,
              e.referral_id, e.subject_ref, e.from_agency, e.to_agency, convert_from(e.entry, 'UTF8') as canonical
       from audit.entries e
       where e.seq > $1
         and ($2 = '' or e.subject_ref = $2) and ($3 = '' or e.referral_id = $3)
         and ($4 = '' or e.actor_agency = $4 or e.from_agency = $4 or e.to_agency = $4)
         and ($5 = '' or e.actor_user = $5) and ($6 = '' or e.action = $6)
         and ($7::timestamptz is null or e.occurred_at >= $7) and ($8::timestamptz is null or e.occurred_at < $8)
       order by e.seq limit $9`,
      [
        q.afterSeq,
        q.subjectRef ?? '',
        q.referralId ?? '',
        q.agencyId ?? '',
        q.actorUser ?? '',
        q.action ?? '',
        iso(q.window.since),
        iso(q.window.until),
        q.limit,
      ],
    );
    return rows.map((row) => ({
      seq: Number(row['seq']),
      eventId: String(row['event_id']),
      action: String(row['action']),
      occurredAt: (row['occurred_at'] as Date | null) ?? undefined,
      receivedAt: row['received_at'] as Date,
      actorAgency: String(row['actor_agency']),
      actorUser: String(row['actor_user']),
      actorRole: String(row['actor_role']),
      referralId: String(row['referral_id']),
      subjectRef: String(row['subject_ref']),
      fromAgency: String(row['from_agency']),
      toAgency: String(row['to_agency']),
      canonical: String(row['canonical']),
    }));
  }

  async accessLog(subjectRef: string, window: TimeWindow): Promise<AccessRow[]> {
    const { rows } = await this.#pool.query<{ seq: string; entry: Buffer }>(
      `select e.seq, e.entry from audit.entries e
       where e.subject_ref = $1 and e.action = 'audit.v1.access'
         and ($2::timestamptz is null or e.occurred_at >= $2) and ($3::timestamptz is null or e.occurred_at < $3)
       order by e.seq`,
      [subjectRef, iso(window.since), iso(window.until)],
    );
    return rows.map((row) => ({ seq: Number(row.seq), entry: decodeEntry(row.entry) }));
  }

  async subjectsFor(reference: AccessReference): Promise<string[]> {
    const query: Record<AccessReference['kind'], string> = {
      referral: `select distinct e.subject_ref from audit.entries e where e.referral_id = $1 and e.subject_ref <> ''`,
      // The receipt reference is the consent id's last 8 hex digits: read from the grant entries.
      receipt: `select distinct e.subject_ref from audit.entries e
                where e.action = 'consent.v1.granted' and e.subject_ref <> ''
                  and upper(right(replace(${event} ->> 'consentId', '-', ''), 8)) = $1`,
      referral_reference: `select distinct e.subject_ref from audit.referrals r
                           join audit.entries e on e.referral_id = r.referral_id::text
                           where r.reference = $1 and e.subject_ref <> ''`,
    };
    const { rows } = await this.#pool.query<{ subject_ref: string }>(query[reference.kind], [reference.value]);
    return rows.map((row) => row.subject_ref).sort();
  }

  async handoff(
    grouping: HandoffGrouping,
    window: TimeWindow,
    scope: ReportScope,
    now: Date,
  ): Promise<{ rows: HandoffRow[]; total: HandoffRow; approximate: boolean }> {
    const client = await this.#pool.connect();
    try {
      // One snapshot for the rollup, the referrals and the open ones.
      await client.query('begin isolation level repeatable read read only');
      const result = await handoffReport(client, grouping, window, scope, now, this.#exactLimit);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async handoffReferrals(q: HandoffReferralsQuery): Promise<ReferralSummary[]> {
    const figure = typeof q.figure === 'string' ? figureCondition[q.figure] : 'true';
    const { rows } = await this.#pool.query<Record<string, unknown>>(
      `${q.figure === 'accepted_anywhere' ? chainAcceptance : ''}
       select r.referral_id, r.from_agency, r.to_agency, r.priority, r.state, r.reason, r.sent_at, r.acknowledged_at,
              r.accepted_at, r.contact_at, r.closed_at, r.declined_at, r.withdrawn_at, r.previous_referral_id,
              coalesce(r.after_hours, false) as after_hours, coalesce(r.reference, '') as reference
       from audit.referrals r left join audit.agencies a on a.agency_id = r.to_agency
       where ${inReport} and ($5::text is null or ${groupOverReferrals[q.grouping]} = $5) and (${figure})
         and $4::timestamptz is not null and ($9::text is null or ${outcomeOf} = $9)
         and ($6::timestamptz is null or (r.sent_at, r.referral_id) > ($6::timestamptz, $7::uuid))
       order by r.sent_at, r.referral_id limit $8`,
      [
        iso(q.window.since),
        iso(q.window.until),
        scopedAgency(q.scope),
        q.now.toISOString(),
        q.group ?? null,
        iso(q.after?.sentAt) ?? null,
        q.after?.referralId ?? null,
        q.limit,
        typeof q.figure === 'string' ? null : q.figure.outcome,
      ],
    );
    const at = (value: unknown): Date | undefined => (value as Date | null) ?? undefined;
    return rows.map((row) => ({
      referralId: String(row['referral_id']),
      fromAgency: String(row['from_agency']),
      toAgency: String(row['to_agency']),
      priority: String(row['priority']),
      state: String(row['state']),
      reason: String(row['reason']),
      sentAt: row['sent_at'] as Date,
      acknowledgedAt: at(row['acknowledged_at']),
      acceptedAt: at(row['accepted_at']),
      contactAt: at(row['contact_at']),
      closedAt: at(row['closed_at']),
      declinedAt: at(row['declined_at']),
      withdrawnAt: at(row['withdrawn_at']),
      previousReferralId: typeof row['previous_referral_id'] === 'string' ? row['previous_referral_id'] : '',
      afterHours: Boolean(row['after_hours']),
      reference: String(row['reference']),
    }));
  }

  async consent(window: TimeWindow, scope: ReportScope): Promise<ConsentFigures> {
    const params = [iso(window.since), iso(window.until), scopedAgency(scope)];
    const inWindow = `($1::timestamptz is null or e.occurred_at >= $1) and ($2::timestamptz is null or e.occurred_at < $2)`;
    const consents = await this.#pool.query<Record<string, unknown>>(
      `with grants as (
         select ${event} ->> 'consentId' as consent_id, e.actor_agency as agency,
                coalesce(${event} #>> '{consentGranted,method}', '') as method
         from audit.entries e where e.action = 'consent.v1.granted'
       ), changes as (
         select e.action, ${event} ->> 'consentId' as consent_id from audit.entries e
         where e.action in ('consent.v1.granted', 'consent.v1.revoked', 'consent.v1.expired') and ${inWindow}
       )
       select coalesce(g.agency, '') as agency, coalesce(g.method, '') as method,
              count(*) filter (where c.action = 'consent.v1.granted') as granted,
              count(*) filter (where c.action = 'consent.v1.revoked') as revoked,
              count(*) filter (where c.action = 'consent.v1.expired') as expired
       from changes c left join grants g on g.consent_id = c.consent_id
       where $3 = '' or g.agency = $3
       group by 1, 2 order by 1, 2`,
      params,
    );
    const withdrawn = await this.#pool.query<{ n: string }>(
      `select count(*) as n from audit.entries e
       where e.action = 'referral.v1.withdrawn' and ${event} #>> '{referralChanged,reason}' = 'consent_revoked'
         and ${inWindow} and ($3 = '' or e.from_agency = $3 or e.to_agency = $3)`,
      params,
    );
    const accesses = await this.#pool.query<Record<string, unknown>>(
      `select e.actor_agency as agency, c.category,
              count(*) filter (where ${event} #>> '{accessRecorded,outcome}' = 'granted') as granted,
              count(*) filter (where ${event} #>> '{accessRecorded,outcome}' = 'denied') as denied
       from audit.entries e
       cross join lateral jsonb_array_elements_text(coalesce(${event} #> '{accessRecorded,categories}', '[]'::jsonb))
         as c(category)
       where e.action = 'audit.v1.access' and ${inWindow} and ($3 = '' or e.actor_agency = $3)
       group by 1, 2 order by 1, 2`,
      params,
    );
    const denied = await this.#pool.query<{ n: string }>(
      `select count(*) as n from audit.entries e
       where e.action = 'audit.v1.access' and ${event} #>> '{accessRecorded,outcome}' = 'denied'
         and ${inWindow} and ($3 = '' or e.actor_agency = $3)`,
      params,
    );
    // One row per scope that lets police read: its latest state, who recorded and who confirmed it.
    const police = await this.#pool.query<Record<string, unknown>>(
      `with p as (
         select e.seq, e.occurred_at, e.actor_agency, ${event} -> 'policeAccess' as pa
         from audit.entries e where e.action = 'consent.v1.police_access'
       ), scopes as (
         select pa ->> 'consentId' as consent_id, pa ->> 'scopeId' as scope_id,
                (array_agg(coalesce(pa ->> 'state', '') order by seq desc))[1] as state,
                (array_agg(coalesce(pa ->> 'recordedByAgency', '') order by seq))[1] as recorded_by,
                (array_agg(pa ->> 'recordedAt' order by seq))[1] as recorded_at,
                (array_agg(coalesce(pa -> 'policeAgencyIds', '[]'::jsonb) order by seq))[1] as police_agency_ids,
                bool_or(coalesce((pa ->> 'allPolice')::boolean, false)) as all_police,
                (array_agg(coalesce(pa -> 'categories', '[]'::jsonb) order by seq))[1] as categories,
                max(case when pa ->> 'state' = 'confirmed' then actor_agency end) as confirmed_by,
                max(case when pa ->> 'state' = 'confirmed' then occurred_at end) as confirmed_at,
                bool_or(($1::timestamptz is null or occurred_at >= $1) and ($2::timestamptz is null or occurred_at < $2))
                  as in_window
         from p group by 1, 2
       )
       select * from scopes
       where in_window and ($3 = '' or recorded_by = $3 or confirmed_by = $3 or police_agency_ids ? $3)
       order by recorded_at, consent_id, scope_id`,
      params,
    );
    return {
      revocations: await this.#revocations(params),
      policeAccess: police.rows.map((row) => ({
        consentId: String(row['consent_id']),
        scopeId: String(row['scope_id']),
        state: String(row['state']),
        recordedByAgency: String(row['recorded_by']),
        recordedAt: typeof row['recorded_at'] === 'string' ? new Date(row['recorded_at']) : undefined,
        policeAgencyIds: row['police_agency_ids'] as string[],
        allPolice: Boolean(row['all_police']),
        categories: row['categories'] as string[],
        confirmedByAgency: typeof row['confirmed_by'] === 'string' ? row['confirmed_by'] : '',
        confirmedAt: (row['confirmed_at'] as Date | null) ?? undefined,
      })),
      consents: consents.rows.map((row) => ({
        agencyId: String(row['agency']),
        method: String(row['method']),
        granted: Number(row['granted']),
        revoked: Number(row['revoked']),
        expired: Number(row['expired']),
      })),
      referralsWithdrawnByRevocation: Number(withdrawn.rows[0]?.n ?? 0),
      accesses: accesses.rows.map((row) => ({
        agencyId: String(row['agency']),
        category: String(row['category']),
        granted: Number(row['granted']),
        denied: Number(row['denied']),
      })),
      accessesDenied: Number(denied.rows[0]?.n ?? 0),
    };
  }

  /**
   * Consent honoured: each revocation in the window, the referrals sent under that consent
   * (their events name it; found through the person's entries), and for each the first read
   * refused after the revocation and the reads granted after it. A supervisor sees the
   * referrals its agency sent or received.
   */
  async #revocations(params: (string | null)[]): Promise<ConsentFigures['revocations']> {
    const access = `(convert_from(a.entry, 'UTF8')::jsonb -> 'event' -> 'accessRecorded')`;
    const { rows } = await this.#pool.query<Record<string, unknown>>(
      `with revocations as (
         select e.seq, e.occurred_at as revoked_at, e.subject_ref, ${event} ->> 'consentId' as consent_id,
                coalesce((${event} #>> '{consentRevoked,all}')::boolean, false) as all_scopes
         from audit.entries e
         where e.action = 'consent.v1.revoked' and e.subject_ref <> ''
           and ($1::timestamptz is null or e.occurred_at >= $1) and ($2::timestamptz is null or e.occurred_at < $2)
       ), covered as (
         select distinct v.seq, e.referral_id from revocations v
         join audit.entries e on e.subject_ref = v.subject_ref and e.referral_id <> '' and e.action like 'referral.v1.%'
           and ${event} ->> 'consentId' = v.consent_id
       )
       select v.seq, v.consent_id, v.revoked_at, v.all_scopes, c.referral_id,
              coalesce(r.state, '') as state, coalesce(r.from_agency, '') as from_agency, coalesce(r.to_agency, '') as to_agency,
              (select min(a.occurred_at) from audit.entries a
               where a.referral_id = c.referral_id and a.action = 'audit.v1.access' and a.occurred_at >= v.revoked_at
                 and ${access} ->> 'outcome' = 'denied') as first_refused_at,
              (select count(*) from audit.entries a
               where a.referral_id = c.referral_id and a.action = 'audit.v1.access' and a.occurred_at >= v.revoked_at
                 and ${access} ->> 'outcome' = 'granted') as granted_after
       from revocations v left join covered c on c.seq = v.seq
       left join audit.referrals r on r.referral_id::text = c.referral_id
       where $3 = '' or r.from_agency = $3 or r.to_agency = $3
       order by v.revoked_at, v.seq, c.referral_id`,
      params,
    );
    const bySeq = new Map<number, ConsentFigures['revocations'][number]>();
    for (const row of rows) {
      const seq = Number(row['seq']);
      let revocation = bySeq.get(seq);
      if (!revocation) {
        revocation = {
          consentId: typeof row['consent_id'] === 'string' ? row['consent_id'] : '',
          revokedAt: (row['revoked_at'] as Date | null) ?? undefined,
          all: Boolean(row['all_scopes']),
          referrals: [],
        };
        bySeq.set(seq, revocation);
      }
      if (row['referral_id'] === null) continue; // a revocation that covered no referral
      revocation.referrals.push({
        referralId: row['referral_id'] as string,
        firstRefusedAt: (row['first_refused_at'] as Date | null) ?? undefined,
        grantedAfter: Number(row['granted_after']),
        state: String(row['state']),
        fromAgency: String(row['from_agency']),
        toAgency: String(row['to_agency']),
      });
    }
    return [...bySeq.values()];
  }

  async statistics(
    rows: StatisticsDimension,
    columns: StatisticsDimension,
    window: TimeWindow,
    scope: ReportScope,
  ): Promise<Map<string, Map<string, number>>> {
    const needs = rows === 'need' || columns === 'need' ? 'cross join lateral unnest(r.needs) as n(need)' : '';
    const result = await this.#pool.query<{ row_label: string; column_label: string; n: string }>(
      `select ${statisticsAxis[rows]} as row_label, ${statisticsAxis[columns]} as column_label, count(*) as n
       from audit.referrals r left join audit.agencies a on a.agency_id = r.to_agency ${needs}
       where ($1::timestamptz is null or r.sent_at >= $1) and ($2::timestamptz is null or r.sent_at < $2)
         and ($3 = '' or r.to_agency = $3 or r.from_agency = $3)
       group by 1, 2`,
      [iso(window.since), iso(window.until), scopedAgency(scope)],
    );
    const table = new Map<string, Map<string, number>>();
    for (const row of result.rows) {
      const line = table.get(row.row_label) ?? new Map<string, number>();
      line.set(row.column_label, Number(row.n));
      table.set(row.row_label, line);
    }
    return table;
  }
}
