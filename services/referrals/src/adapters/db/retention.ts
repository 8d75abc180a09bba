import type { SubjectVault } from '@passage/crypto';
import type { PruneTask } from '@passage/events';
import type { MikroORM } from '@passage/platform';
import { SqlReferralRepository } from './referral-repository.ts';

/** The states a referral ends in; its packet is kept for the retention after it ended. */
const ended = `state in ('closed', 'declined', 'withdrawn')`;
const endedAt = 'coalesce(closed_at, declined_at, withdrawn_at)';

/**
 * The retention schedule of ended referrals (docs/adr/0033-retention.md): a referral closed,
 * declined or withdrawn longer ago than `keepMs` loses its sealed packet, notes and message bodies, and the
 * time it did is recorded (packet_destroyed_at); its metadata, transitions and the audit log
 * stay. Once none of the subject's referrals holds sealed data any more, the subject's data
 * key is replaced by a fresh one (SubjectVault.renew), so that a copy of what was sealed (a
 * backup) cannot be opened either, while the person can still be referred again later.
 *
 * Each subject is done in a transaction of its own under the subject's advisory lock, the lock
 * a Send takes before it seals under that key: no packet is being sealed under the old key
 * while it is replaced.
 */
export function packetRetention(orm: MikroORM, vault: () => SubjectVault, keepMs: number): PruneTask {
  return {
    name: 'referral_packets',
    async round(_client, now, limit) {
      const cutoff = new Date(now.getTime() - keepMs);
      const due = await orm.em.fork().execute<{ subject_ref: string }[]>(
        `select distinct subject_ref from (
           select subject_ref from referrals.referrals
           where ${ended} and packet_destroyed_at is null and ${endedAt} < ? limit ?
         ) as due`,
        [cutoff, limit],
      );
      let destroyed = 0;
      for (const { subject_ref: subjectRef } of due) {
        destroyed += await orm.em.fork().transactional(async (em) => {
          await new SqlReferralRepository(em).lockSubject(subjectRef);
          const rows = await em.execute<{ id: string }[]>(
            `update referrals.referrals set note = null, packet_destroyed_at = ?
             where subject_ref = ? and ${ended} and packet_destroyed_at is null and ${endedAt} < ?
             returning id`,
            [now, subjectRef, cutoff],
          );
          if (rows.length === 0) return 0;
          const ids = `{${rows.map((row) => row.id).join(',')}}`;
          await em.execute('delete from referrals.packets where referral_id = any(?::uuid[])', [ids]);
          // The thread's words go with the packet; who wrote when stays, like the transitions.
          await em.execute('update referrals.messages set sealed = null where referral_id = any(?::uuid[])', [ids]);
          // Another referral of the person (open, or ended within the retention) still needs the key.
          const [needed] = await em.execute<{ n: number }[]>(
            `select count(*)::int as n from referrals.referrals where subject_ref = ? and packet_destroyed_at is null`,
            [subjectRef],
          );
          if (needed!.n === 0) await vault().renew(subjectRef);
          return rows.length;
        });
      }
      return destroyed;
    },
  };
}
