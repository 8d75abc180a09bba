import type pg from 'pg';
import {
  Frontier,
  consistencyProof,
  encodeEntry,
  frontierKeys,
  inclusionPath,
  leafHash,
  recordLookups,
  treeRoot,
  type Hash,
  type SubtreeKey,
  type SubtreeLookup,
} from '@passage/audit-log';
import { PassageError } from '@passage/platform';
import { addToHandoffRollup } from './handoff-rollup.ts';
import type {
  AgencyFact,
  IncomingEvent,
  LogStore,
  ParkedEvent,
  ReferralFact,
  StoredCheckpoint,
  StreamHead,
} from '../../app/ports.ts';
import { gapAction, sentAfterHours, knownHours, type AgencyHours } from '../../domain/index.ts';
import { iso } from './sql-values.ts';

/** One writer at a time appends: sequence numbers stay gap-free across instances. */
const appendLock = 0x61756474; // "audt"

/**
 * The log in Postgres, through `pg` with bound parameters: entries and the perfect subtrees
 * of the tree are written in bulk (unnest), one transaction per batch.
 */
export class PgLogStore implements LogStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async append(
    events: readonly IncomingEvent[],
    parked: readonly ParkedEvent[],
  ): Promise<{ appended: number; size: number }> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock($1)', [appendLock]);
      const { rows: seen } = await client.query<{ event_id: string }>(
        'select event_id from audit.entries where event_id = any($1::uuid[])',
        [events.map((e) => e.eventId)],
      );
      const known = new Set(seen.map((row) => row.event_id));
      // Another instance may have read further into a stream: what it holds is not appended twice.
      // Positions are read before anything of this batch is written, parked events included.
      const positions = await streamPositions(client, [...new Set([...events, ...parked].map((e) => e.stream))]);
      const unseen = (item: { stream: string; streamSeq: number }) =>
        item.streamSeq > (positions.get(item.stream) ?? 0);
      const fresh = events.filter((event) => unseen(event) && !known.has(event.eventId) && known.add(event.eventId));
      const newlyParked = parked.filter(unseen);
      const size = await currentSize(client);
      if (newlyParked.length > 0) {
        await client.query(
          `insert into audit.parked_events (subject, stream, stream_seq, payload, error, log_size)
           select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::text[], $6::bigint[])`,
          [
            newlyParked.map((p) => p.subject),
            newlyParked.map((p) => p.stream),
            newlyParked.map((p) => p.streamSeq),
            newlyParked.map((p) => Buffer.from(p.payload)),
            newlyParked.map((p) => p.error),
            newlyParked.map(() => size),
          ],
        );
      }
      await appendEntries(client, size, fresh);
      await client.query('commit');
      return { appended: fresh.length, size: size + fresh.length };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Appends the entry that records a stream's gap, if the log still ends that stream where the
   * gap was seen (`expectedPosition`); the stream's position becomes the entry's stream_seq.
   */
  async appendGap(entry: IncomingEvent, expectedPosition: number): Promise<{ seq: number; size: number }> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock($1)', [appendLock]);
      const position = (await streamPositions(client, [entry.stream])).get(entry.stream) ?? 0;
      if (position !== expectedPosition) {
        throw new PassageError(
          'failed_precondition',
          `the log now holds stream ${entry.stream} up to seq ${position}, not ${expectedPosition}: the gap was already acknowledged; check the ingest status again`,
        );
      }
      const size = await currentSize(client);
      await appendEntries(client, size, [entry]);
      await client.query('commit');
      return { seq: size, size: size + 1 };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async streamHead(stream: string): Promise<StreamHead> {
    const { rows } = await this.#pool.query<{
      entry_seq: string | null;
      event_id: string | null;
      action: string | null;
      parked_seq: string | null;
      payload: Buffer | null;
    }>(
      `with s as (select $1::text as stream),
       e as (select x.stream_seq, x.event_id, x.action from audit.entries x, s
             where x.stream = s.stream order by x.seq desc limit 1),
       g as (select x.seq from audit.entries x, s
             where x.stream = s.stream and x.action = '${gapAction}' order by x.seq desc limit 1),
       p as (select x.stream_seq, x.payload from audit.parked_events x, s
             where x.stream = s.stream and x.log_size > coalesce((select seq from g), -1)
             order by x.stream_seq desc limit 1)
       select (select stream_seq from e) as entry_seq, (select event_id from e) as event_id,
              (select action from e) as action, (select stream_seq from p) as parked_seq,
              (select payload from p) as payload`,
      [stream],
    );
    const row = rows[0]!;
    const entrySeq = row.entry_seq === null ? -1 : Number(row.entry_seq);
    const parkedSeq = row.parked_seq === null ? -1 : Number(row.parked_seq);
    if (entrySeq < 0 && parkedSeq < 0) return { position: 0 };
    if (parkedSeq > entrySeq) return { position: parkedSeq, payload: row.payload! };
    return row.action === gapAction ? { position: entrySeq } : { position: entrySeq, eventId: row.event_id! };
  }

  async size(): Promise<number> {
    return currentSize(this.#pool);
  }

  async positions(streams: readonly string[]): Promise<Map<string, number>> {
    return streamPositions(this.#pool, streams);
  }

  async rootAt(size: number): Promise<Hash> {
    const lookup = await this.#lookupFor((l) => treeRoot(size, l));
    return treeRoot(size, lookup);
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const { rows } = await this.#pool.query<{ tree_size: string; root_hash: Buffer; note: string }>(
      'select tree_size, root_hash, note from audit.checkpoints order by tree_size desc limit 1',
    );
    const row = rows[0];
    return row ? { treeSize: Number(row.tree_size), rootHash: row.root_hash, note: row.note } : undefined;
  }

  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    await this.#pool.query(
      'insert into audit.checkpoints (tree_size, root_hash, note) values ($1, $2, $3) on conflict do nothing',
      [checkpoint.treeSize, checkpoint.rootHash, checkpoint.note],
    );
  }

  async inclusion(seq: number, size: number): Promise<{ entry: Buffer; leafHash: Hash; path: Hash[] }> {
    const { rows } = await this.#pool.query<{ entry: Buffer; leaf_hash: Buffer }>(
      'select entry, leaf_hash from audit.entries where seq = $1',
      [seq],
    );
    const row = rows[0];
    if (!row) throw new PassageError('not_found', `entry ${seq} is not in the log`);
    const lookup = await this.#lookupFor((l) => inclusionPath(seq, size, l));
    return { entry: row.entry, leafHash: row.leaf_hash, path: inclusionPath(seq, size, lookup) };
  }

  async consistency(oldSize: number, newSize: number): Promise<Hash[]> {
    const lookup = await this.#lookupFor((l) => consistencyProof(oldSize, newSize, l));
    return consistencyProof(oldSize, newSize, lookup);
  }

  /** Fetches, in one query, every stored subtree a computation will ask for. */
  async #lookupFor(run: (lookup: SubtreeLookup) => unknown): Promise<SubtreeLookup> {
    return lookupOf(await subtrees(this.#pool, recordLookups(run)));
  }
}

async function currentSize(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ size: string }>('select coalesce(max(seq) + 1, 0) as size from audit.entries');
  return Number(rows[0]?.size ?? 0);
}

/**
 * A stream's position: the stream_seq of its latest entry (by seq: entries of a stream are in
 * its order, and a gap entry restarts it) or of the latest event parked since its latest gap
 * entry, whichever is further. Each lookup is one step down an index, however long the log.
 */
async function streamPositions(db: pg.Pool | pg.PoolClient, streams: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ stream: string; position: string | null }>(
    `select s.stream, greatest(e.stream_seq,
       (select max(p.stream_seq) from audit.parked_events p
        where p.stream = s.stream and p.log_size > coalesce(g.seq, -1))) as position
     from (select unnest($1::text[]) as stream) s
     left join lateral (select x.stream_seq from audit.entries x where x.stream = s.stream
                        order by x.seq desc limit 1) e on true
     left join lateral (select x.seq from audit.entries x where x.stream = s.stream and x.action = '${gapAction}'
                        order by x.seq desc limit 1) g on true`,
    [streams],
  );
  return new Map(rows.flatMap((row) => (row.position === null ? [] : [[row.stream, Number(row.position)] as const])));
}

/** Appends entries at `size` on: their leaves, the subtrees they complete and the projections. */
async function appendEntries(client: pg.PoolClient, size: number, fresh: readonly IncomingEvent[]): Promise<void> {
  if (fresh.length === 0) return;
  const frontier = new Frontier(size, await frontierHashes(client, size));
  const entries = fresh.map((event, i) => {
    const entry = encodeEntry({
      seq: size + i,
      receivedAt: event.receivedAt,
      subject: event.subject,
      event: event.event,
    });
    const leaf = leafHash(entry);
    return { event, entry, leaf, nodes: frontier.append(leaf) };
  });
  await insertEntries(client, size, entries);
  const nodes = entries.flatMap((e) => e.nodes);
  await client.query(
    `insert into audit.tree_nodes (level, idx, hash)
     select * from unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
    [nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
  );
  await upsertAgencies(
    client,
    fresh.flatMap((e) => (e.agency ? [e.agency] : [])),
  );
  await upsertReferrals(
    client,
    fresh.flatMap((e) => (e.referral ? [e.referral] : [])),
  );
}

async function subtrees(db: pg.Pool | pg.PoolClient, keys: readonly SubtreeKey[]): Promise<Map<string, Hash>> {
  const found = new Map<string, Hash>();
  if (keys.length === 0) return found;
  const { rows } = await db.query<{ level: number; idx: string; hash: Buffer }>(
    `select n.level, n.idx, n.hash from audit.tree_nodes n
     join unnest($1::smallint[], $2::bigint[]) as k(level, idx) on n.level = k.level and n.idx = k.idx`,
    [keys.map((k) => k.level), keys.map((k) => k.index)],
  );
  for (const row of rows) found.set(`${row.level}:${row.idx}`, row.hash);
  return found;
}

function lookupOf(found: Map<string, Hash>): SubtreeLookup {
  return (key) => {
    const hash = found.get(`${key.level}:${key.index}`);
    if (!hash) throw new PassageError('internal', `the audit tree lacks subtree ${key.level}:${key.index}`);
    return hash;
  };
}

async function frontierHashes(client: pg.PoolClient, size: number): Promise<Hash[]> {
  const keys = frontierKeys(size);
  const lookup = lookupOf(await subtrees(client, keys));
  return keys.map(lookup);
}

async function insertEntries(
  client: pg.PoolClient,
  firstSeq: number,
  entries: readonly { event: IncomingEvent; entry: Buffer; leaf: Hash }[],
): Promise<void> {
  const column = <T>(pick: (e: { event: IncomingEvent; entry: Buffer; leaf: Hash }) => T): T[] => entries.map(pick);
  await client.query(
    `insert into audit.entries (seq, event_id, action, occurred_at, received_at, actor_agency, actor_user, actor_role,
                                referral_id, subject_ref, from_agency, to_agency, entry, leaf_hash, stream, stream_seq)
     select * from unnest($1::bigint[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[],
                          $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[], $14::bytea[],
                          $15::text[], $16::bigint[])`,
    [
      entries.map((_, i) => firstSeq + i),
      column((e) => e.event.eventId),
      column((e) => e.event.fields.action),
      column((e) => iso(e.event.fields.occurredAt)),
      column((e) => e.event.receivedAt.toISOString()),
      column((e) => e.event.fields.actorAgency),
      column((e) => e.event.fields.actorUser),
      column((e) => e.event.fields.actorRole),
      column((e) => e.event.fields.referralId),
      column((e) => e.event.fields.subjectRef),
      column((e) => e.event.fields.fromAgency),
      column((e) => e.event.fields.toAgency),
      column((e) => e.entry),
      column((e) => e.leaf),
      column((e) => e.event.stream),
      column((e) => e.event.streamSeq),
    ],
  );
}

/** Keeps the newest version of each id in a batch. */
function newest<T extends { version: number }>(facts: readonly T[], id: (fact: T) => string): T[] {
  const byId = new Map<string, T>();
  for (const fact of facts) {
    const held = byId.get(id(fact));
    if (!held || held.version < fact.version) byId.set(id(fact), fact);
  }
  return [...byId.values()];
}

async function upsertAgencies(client: pg.PoolClient, facts: readonly AgencyFact[]): Promise<void> {
  const latest = newest(facts, (f) => f.agencyId);
  if (latest.length === 0) return;
  await client.query(
    `insert into audit.agencies (agency_id, kind, region, version, hours)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::jsonb[])
     on conflict (agency_id) do update set kind = excluded.kind, region = excluded.region, version = excluded.version,
       hours = excluded.hours
       where audit.agencies.version < excluded.version`,
    [
      latest.map((f) => f.agencyId),
      latest.map((f) => f.kind),
      latest.map((f) => f.region),
      latest.map((f) => f.version),
      latest.map((f) => {
        const hours = knownHours(f.hours);
        return hours ? JSON.stringify({ alwaysOpen: hours.alwaysOpen, periods: hours.periods }) : null;
      }),
    ],
  );
}

/**
 * Whether each new referral arrived after hours, by its receiving agency's hours as the
 * projection holds them now (agencies are upserted before referrals in the same batch).
 */
async function afterHoursOf(client: pg.PoolClient, facts: readonly ReferralFact[]): Promise<Map<string, boolean>> {
  const agencies = [...new Set(facts.map((f) => f.toAgency))];
  const { rows } = await client.query<{ agency_id: string; hours: AgencyHours | null }>(
    'select agency_id, hours from audit.agencies where agency_id = any($1::text[]) and hours is not null',
    [agencies],
  );
  const hoursOf = new Map(rows.map((row) => [row.agency_id, row.hours ?? undefined]));
  const result = new Map<string, boolean>();
  for (const fact of facts) {
    const after = sentAfterHours(hoursOf.get(fact.toAgency), fact.sentAt);
    if (after !== undefined) result.set(fact.referralId, after);
  }
  return result;
}

async function upsertReferrals(client: pg.PoolClient, facts: readonly ReferralFact[]): Promise<void> {
  const latest = newest(facts, (f) => f.referralId);
  if (latest.length === 0) return;
  await addToHandoffRollup(client, latest, facts);
  const afterHours = await afterHoursOf(client, latest);
  const col = <T>(pick: (f: ReferralFact) => T): T[] => latest.map(pick);
  await client.query(
    `insert into audit.referrals (referral_id, from_agency, to_agency, priority, state, reason, needs, version, sent_at,
       acknowledged_at, accepted_at, contact_at, closed_at, declined_at, withdrawn_at, acknowledge_due_at, accept_due_at,
       previous_referral_id, after_hours, reference)
     select id, from_agency, to_agency, priority, state, reason, string_to_array(needs, ','), version, sent_at,
       acknowledged_at, accepted_at, contact_at, closed_at, declined_at, withdrawn_at, acknowledge_due_at, accept_due_at,
       nullif(previous, '')::uuid, after_hours, nullif(reference, '')
     from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[],
                 $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[],
                 $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::text[], $19::boolean[],
                 $20::text[])
       as r(id, from_agency, to_agency, priority, state, reason, needs, version, sent_at, acknowledged_at, accepted_at,
            contact_at, closed_at, declined_at, withdrawn_at, acknowledge_due_at, accept_due_at, previous, after_hours,
            reference)
     on conflict (referral_id) do update set state = excluded.state, reason = excluded.reason, version = excluded.version,
       previous_referral_id = coalesce(audit.referrals.previous_referral_id, excluded.previous_referral_id),
       after_hours = coalesce(audit.referrals.after_hours, excluded.after_hours),
       reference = coalesce(audit.referrals.reference, excluded.reference),
       acknowledged_at = excluded.acknowledged_at, accepted_at = excluded.accepted_at, contact_at = excluded.contact_at,
       closed_at = excluded.closed_at, declined_at = excluded.declined_at, withdrawn_at = excluded.withdrawn_at,
       acknowledge_due_at = excluded.acknowledge_due_at, accept_due_at = excluded.accept_due_at
       where audit.referrals.version < excluded.version`,
    [
      col((f) => f.referralId),
      col((f) => f.fromAgency),
      col((f) => f.toAgency),
      col((f) => f.priority),
      col((f) => f.state),
      col((f) => f.reason),
      col((f) => f.needs.join(',')),
      col((f) => f.version),
      col((f) => iso(f.sentAt)),
      col((f) => iso(f.acknowledgedAt)),
      col((f) => iso(f.acceptedAt)),
      col((f) => iso(f.contactAt)),
      col((f) => iso(f.closedAt)),
      col((f) => iso(f.declinedAt)),
      col((f) => iso(f.withdrawnAt)),
      col((f) => iso(f.acknowledgeDueAt)),
      col((f) => iso(f.acceptDueAt)),
      col((f) => f.previousReferralId),
      col((f) => afterHours.get(f.referralId) ?? null),
      col((f) => f.reference),
    ],
  );
  const escalated = facts.filter((f) => f.escalated);
  if (escalated.length > 0) {
    await client.query(
      `update audit.referrals r set escalations = r.escalations + e.n, accept_escalations = r.accept_escalations + e.accept
       from (select id, count(*)::int as n, count(*) filter (where target = 'accept')::int as accept
             from unnest($1::uuid[], $2::text[]) as x(id, target) group by id) e
       where r.referral_id = e.id`,
      [escalated.map((f) => f.referralId), escalated.map((f) => f.escalated)],
    );
  }
}
