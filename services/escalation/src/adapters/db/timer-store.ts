import type pg from 'pg';
import { metrics, workSpan } from '@passage/platform';
import type { Target } from '../../domain/index.ts';
import type { ClaimedTimer, ItemRecord, StoredItem, TimerRecord, TimerStore } from '../../app/ports.ts';

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

  async withDueTimer(now: Date, work: (claim: ClaimedTimer) => Promise<void>): Promise<boolean> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<TimerRow>(
        `select * from escalation.timers
         where state = 'pending' and due_at <= $1 and (next_attempt_at is null or next_attempt_at <= $1)
         order by due_at limit 1 for update skip locked`,
        [now.toISOString()],
      );
      const row = rows[0];
      if (!row) {
        await client.query('commit');
        return false;
      }
      // Work found: from here on, a trace of its own (the look itself is untraced; ADR 32).
      return await workSpan(
        'escalation fire timer',
        {
          attributes: {
            'passage.timer.id': row.id,
            'passage.timer.target': row.target,
            'passage.referral.id': row.referral_id,
          },
        },
        async () => {
          // The referral's other timer may be firing in another instance: one at a time per referral,
          // so the second to fire sees the first and tells the supervisors.
          await client.query(`select pg_advisory_xact_lock(hashtext('escalation:' || $1))`, [row.referral_id]);
          const { rows: before } = await client.query<{ n: number }>(
            `select count(*)::int as n from escalation.timers where referral_id = $1 and state = 'fired'`,
            [row.referral_id],
          );
          const timer = timerOf(row);
          let settled = false;
          let fired = false;
          const settle = async (sql: string, params: unknown[]): Promise<void> => {
            await client.query(sql, params);
            settled = true;
          };
          await work({
            timer,
            escalationsBefore: before[0]?.n ?? 0,
            fired: async (items: readonly ItemRecord[]) => {
              await settle(
                `update escalation.timers set state = 'fired', fired_at = now(), attempts = attempts + 1 where id = $1`,
                [timer.id],
              );
              fired = true;
              if (items.length > 0) {
                await client.query(
                  `insert into escalation.items (timer_id, referral_id, audience, for_agency, missed_target, due_at,
                   from_agency, to_agency, priority, candidates, consent_covers_reader, note)
                 select $1, $2, i.audience, i.for_agency, $3, $4, $5, $6, $7, i.candidates, i.covers, i.note
                 from unnest($8::text[], $9::text[], $10::jsonb[], $11::boolean[], $12::text[])
                   as i(audience, for_agency, candidates, covers, note)
                 on conflict do nothing`,
                  [
                    timer.id,
                    timer.referralId,
                    timer.target,
                    timer.dueAt.toISOString(),
                    timer.fromAgency,
                    timer.toAgency,
                    timer.priority,
                    items.map((i) => i.audience),
                    items.map((i) => i.forAgency),
                    items.map((i) => JSON.stringify(i.candidates)),
                    items.map((i) => i.consentCoversReader),
                    items.map((i) => i.note),
                  ],
                );
              }
            },
            cancelled: (reason: string) =>
              settle(`update escalation.timers set state = 'cancelled', settled_reason = $2 where id = $1`, [
                timer.id,
                reason,
              ]),
            retryLater: (error: string, delayMs: number) =>
              settle(
                `update escalation.timers set attempts = attempts + 1, last_error = $2,
                 next_attempt_at = now() + $3 * interval '1 millisecond' where id = $1`,
                [timer.id, error, delayMs],
              ),
          });
          if (!settled) throw new Error(`timer ${timer.id} was claimed and left unsettled`);
          await client.query('commit');
          // How late the timer fired, by the service's clock (ADR 31).
          if (fired) metrics().record('escalationLateness', Math.max(0, now.getTime() - timer.dueAt.getTime()) / 1000);
          return true;
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
