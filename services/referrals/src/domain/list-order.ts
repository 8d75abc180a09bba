import { actingRecipient, type Referral } from './referral.ts';

/**
 * "Needs your action" first (ADR 38). A referral's rank, from the point of view of one agency:
 * - received (or taken over, by the crisis line), waiting for acknowledgement or acceptance (sent, acknowledged): escalated 0,
 *   urgent 1, other 2;
 * - sent by the agency, declined and not yet resent elsewhere: 0 (the person is waiting for
 *   the sender to find them another agency);
 * - anything else: 3.
 * Lists go by rank, then newest sent first, then id (newest first), a total order the cursor
 * can resume from. The SQL of the repository computes the same rank (listRankSql).
 */
export type Rank = 0 | 1 | 2 | 3;
export const lastRank: Rank = 3;

export function listRank(referral: Referral, agencyId: string, resent: boolean): Rank {
  if (actingRecipient(referral) === agencyId) {
    if (referral.state === 'sent' || referral.state === 'acknowledged') {
      return referral.escalated ? 0 : referral.priority === 'urgent' ? 1 : 2;
    }
    return 3;
  }
  if (referral.fromAgency === agencyId && referral.state === 'declined' && !resent) return 0;
  return 3;
}

export interface Ranked {
  readonly referral: Referral;
  readonly rank: Rank;
}

export function compareRanked(a: Ranked, b: Ranked): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  const time = b.referral.sentAt.getTime() - a.referral.sentAt.getTime();
  if (time !== 0) return time;
  return a.referral.id < b.referral.id ? 1 : a.referral.id > b.referral.id ? -1 : 0;
}

/** Where a page ended: the rank and id of its last referral. */
export interface ListPosition {
  readonly rank: Rank;
  readonly id: string;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.rank}:${position.id}`).toString('base64url');
}

/** undefined when the text is not a cursor this service wrote. */
export function decodeCursor(cursor: string): ListPosition | undefined {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = /^([0-3]):(.+)$/.exec(text);
  if (!match || !uuid.test(match[2]!)) return undefined;
  return { rank: Number(match[1]) as Rank, id: match[2]! };
}
