import type pg from 'pg';
import { metrics, workSpan } from '@passage/platform';
import type { Target } from '../../domain/index.ts';
import type { ClaimedBatch, Settlement, StoredItem, TimerRecord, TimerStore } from '../../app/ports.ts';

interface TimerRow {
  id: string;
  referral_id: string;
  target: Target;
  due_at: Date;
  subject_ref: string;
  from_agency: string;
  to_agency: string;
  priority: string;
  needs: string[];
  state: TimerRecord['state'];
  fired_at: Date | null;
  attempts: number;
  last_error: string | null;
}

const timerOf = (row: TimerRow): TimerRecord => ({
  id: row.id,
  referralId: row.referral_id,
  target: row.target,
  dueAt: row.due_at,
  subjectRef: row.subject_ref,
  fromAgency: row.from_agency,
  toAgency: row.to_agency,
  priority: row.priority,
  needs: row.needs,
  state: row.state,
  firedAt: row.fired_at ?? undefined,
  attempts: row.attempts,
  lastError: row.last_error ?? '',
});

export class PgTimerStore implements TimerStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  withDueTimers(now: Date, limit: number, work: (batch: ClaimedBatch) => Promise<void>): Promise<number> {
    return this.#claim(
      `select * from escalation.timers
       where state = 'pending' and due_at <= $1 and (next_attempt_at is null or next_attempt_at <= $1)
       order by due_at, id limit $2 for update skip locked`,
      [now.toISOString(), limit],
      now,
      work,
    );
  }

  withTimers(ids: readonly string[], now: Date, work: (batch: ClaimedBatch) => Promise<void>): Promise<number> {
    return this.#claim(
      `select * from escalation.timers
       where id = any($1::uuid[]) and state = 'pending' and (next_attempt_at is null or next_attempt_at <= $2)
       order by due_at, id for update skip locked`,
      [ids, now.toISOString()],
      now,
      work,
    );
  }

  async #claim(
    claimSql: string,
    params: unknown[],
    now: Date,
    work: (batch: ClaimedBatch) => Promise<void>,
  ): Promise<number> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<TimerRow>(claimSql, params);
      if (rows.length === 0) {
        await client.query('commit');
        return 0;
      }
      const referralIds = [...new Set(rows.map((row) => row.referral_id))];
      // Work found: from here on, a trace of its own (the look itself is untraced; ADR 32).
      return await workSpan(
        'escalation fire timers',
        {
          attributes: {
            'passage.timer.count': rows.length,
            'passage.timer.ids': rows.map((row) => row.id),
            'passage.referral.ids': referralIds,
          },
        },
        async () => {
          // A referral's other timer may be firing in another instance: one batch at a time per
          // referral, so the second to fire sees the first and tells the supervisors. The locks
          // are taken in one order, so two batches never wait on each other in a circle.
          await client.query(
            `select pg_advisory_xact_lock(k)
             from (select distinct hashtext('escalation:' || r) as k from unnest($1::text[]) r order by k offset 0) locks`,
            [referralIds],
          );
          const { rows: before } = await client.query<{ referral_id: string; n: number }>(
            `select referral_id, count(*)::int as n from escalation.timers
             where referral_id = any($1::uuid[]) and state = 'fired' group by referral_id`,
            [referralIds],
          );
          const firedBefore = new Map(before.map((row) => [row.referral_id, row.n]));
          const timers = rows.map((row) => ({
            timer: timerOf(row),
            escalationsBefore: firedBefore.get(row.referral_id) ?? 0,
          }));
          let fired: TimerRecord[] | undefined;
          await work({
            timers,
            settle: async (settlements) => {
              if (fired) throw new Error('a batch of timers was settled twice');
              fired = await this.#settle(
                client,
                timers.map((claimed) => claimed.timer),
                settlements,
              );
            },
          });
          if (!fired) throw new Error(`${rows.length} timers were claimed and left unsettled`);
          await client.query('commit');
          // How late each timer fired, by the service's clock (ADR 31).
          for (const timer of fired) {
            metrics().record('escalationLateness', Math.max(0, now.getTime() - timer.dueAt.getTime()) / 1000);
          }
          return rows.length;
        },
      );
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Every claimed timer settled in one statement: those fired marked so with their items
   * written, those cancelled with their reason, the others put off. Returns those fired.
   */
  async #settle(client: pg.PoolClient, claimed: readonly TimerRecord[], settlements: readonly Settlement[]) {
    const byId = new Map(claimed.map((timer) => [timer.id, timer]));
    const seen = new Set<string>();
    for (const settlement of settlements) {
      if (!byId.has(settlement.timerId) || seen.has(settlement.timerId)) {
        throw new Error(`timer ${settlement.timerId} was not claimed, or is settled twice`);
      }
      seen.add(settlement.timerId);
    }
    if (seen.size !== claimed.length) throw new Error(`${claimed.length - seen.size} claimed timers left unsettled`);
    const fired = settlements.flatMap((s) => (s.kind === 'fired' ? [s] : []));
    const cancelled = settlements.flatMap((s) => (s.kind === 'cancelled' ? [s] : []));
    const retried = settlements.flatMap((s) => (s.kind === 'retry' ? [s] : []));
    const items = fired.flatMap((s) => s.items.map((item) => ({ timer: byId.get(s.timerId)!, item })));
    await client.query(
      `with fired as (
         update escalation.timers set state = 'fired', fired_at = now(), attempts = attempts + 1
         where id = any($1::uuid[])
       ), cancelled as (
         update escalation.timers t set state = 'cancelled', settled_reason = c.reason
         from unnest($2::uuid[], $3::text[]) as c(id, reason) where t.id = c.id
       ), retried as (
         update escalation.timers t set attempts = attempts + 1, last_error = r.error,
           next_attempt_at = now() + r.delay_ms * interval '1 millisecond'
         from unnest($4::uuid[], $5::text[], $6::int[]) as r(id, error, delay_ms) where t.id = r.id
       )
       insert into escalation.items (timer_id, referral_id, audience, for_agency, missed_target, due_at,
         from_agency, to_agency, priority, candidates, consent_covers_reader, note)
       select * from unnest($7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::text[], $12::timestamptz[],
         $13::text[], $14::text[], $15::text[], $16::jsonb[], $17::boolean[], $18::text[])
       on conflict do nothing`,
      [
        fired.map((s) => s.timerId),
        cancelled.map((s) => s.timerId),
        cancelled.map((s) => s.reason),
        retried.map((s) => s.timerId),
        retried.map((s) => s.error),
        retried.map((s) => s.delayMs),
        items.map(({ timer }) => timer.id),
        items.map(({ timer }) => timer.referralId),
        items.map(({ item }) => item.audience),
        items.map(({ item }) => item.forAgency),
        items.map(({ timer }) => timer.target),
        items.map(({ timer }) => timer.dueAt.toISOString()),
        items.map(({ timer }) => timer.fromAgency),
        items.map(({ timer }) => timer.toAgency),
        items.map(({ timer }) => timer.priority),
        items.map(({ item }) => JSON.stringify(item.candidates)),
        items.map(({ item }) => item.consentCoversReader),
        items.map(({ item }) => item.note),
      ],
    );
    return fired.map((s) => byId.get(s.timerId)!);
  }

  /**
   * The timer gauges, read when metrics are collected: timers pending, and those of them past
   * their due time by the service's clock. Returns what removes them.
   */
  observe(now: () => Date): () => void {
    return metrics().observe(['escalationTimersPending', 'escalationTimersDue'], async (observe) => {
      const { rows } = await this.#pool.query<{ pending: number; due: number }>(
        `select count(*)::int as pending, (count(*) filter (where due_at <= $1))::int as due
           from escalation.timers where state = 'pending'`,
        [now().toISOString()],
      );
      observe('escalationTimersPending', rows[0]?.pending ?? 0);
      observe('escalationTimersDue', rows[0]?.due ?? 0);
    });
  }

  async nextDueAt(): Promise<Date | undefined> {
    const { rows } = await this.#pool.query<{ at: Date | null }>(
      `select min(greatest(due_at, coalesce(next_attempt_at, due_at))) as at from escalation.timers where state = 'pending'`,
    );
    return rows[0]?.at ?? undefined;
  }

  async timers(state: string, limit: number): Promise<TimerRecord[]> {
    const { rows } = await this.#pool.query<TimerRow>(
      `select * from escalation.timers where ($1 = '' or state = $1) order by due_at limit $2`,
      [state, limit],
    );
    return rows.map(timerOf);
  }

  async items(forAgency: string, withSupervisorItems: boolean, limit: number): Promise<StoredItem[]> {
    const { rows } = await this.#pool.query<Record<string, unknown>>(
      `select * from escalation.items where for_agency = $1 and ($2 or audience <> 'supervisors')
       order by escalated_at desc limit $3`,
      [forAgency, withSupervisorItems, limit],
    );
    return rows.map((row) => ({
      id: String(row['id']),
      referralId: String(row['referral_id']),
      audience: row['audience'] as StoredItem['audience'],
      forAgency: String(row['for_agency']),
      missedTarget: row['missed_target'] as Target,
      dueAt: row['due_at'] as Date,
      escalatedAt: row['escalated_at'] as Date,
      fromAgency: String(row['from_agency']),
      toAgency: String(row['to_agency']),
      priority: String(row['priority']),
      candidates: row['candidates'] as StoredItem['candidates'],
      consentCoversReader: Boolean(row['consent_covers_reader']),
      note: String(row['note']),
    }));
  }
}
