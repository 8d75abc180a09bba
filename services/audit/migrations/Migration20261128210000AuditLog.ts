import { Migration } from '@mikro-orm/migrations';

/**
 * The log (entries, the perfect subtrees of its Merkle tree, signed checkpoints) is
 * append-only: the service's own role loses UPDATE, DELETE and TRUNCATE on it here, and a
 * trigger refuses them to anyone who gets them back. The projections the reports read
 * (agencies, referrals) are ordinary tables, rebuilt from the log if ever in doubt.
 */
export class Migration20261128210000AuditLog extends Migration {
  override up(): void {
    this.addSql(`create table "audit".entries (
      seq bigint primary key check (seq >= 0),
      event_id uuid not null unique,
      action text not null,
      occurred_at timestamptz,
      received_at timestamptz not null,
      actor_agency text not null default '',
      actor_user text not null default '',
      actor_role text not null default '',
      referral_id text not null default '',
      subject_ref text not null default '',
      from_agency text not null default '',
      to_agency text not null default '',
      entry bytea not null,
      leaf_hash bytea not null check (length(leaf_hash) = 32),
      stream text not null,
      stream_seq bigint not null
    )`);
    // The log is its own cursor: where each stream was read up to (docs/adr/0016-audit-log.md).
    this.addSql('create index entries_by_stream_position on "audit".entries (stream, stream_seq)');
    this.addSql(`create index entries_by_subject on "audit".entries (subject_ref, seq) where subject_ref <> ''`);
    this.addSql(`create index entries_by_referral on "audit".entries (referral_id, seq) where referral_id <> ''`);
    this.addSql('create index entries_by_action on "audit".entries (action, seq)');
    this.addSql('create index entries_by_actor on "audit".entries (actor_user, seq)');
    this.addSql('create index entries_by_occurred on "audit".entries (occurred_at)');
    this.addSql(`create table "audit".tree_nodes (
      level smallint not null check (level >= 0),
      idx bigint not null check (idx >= 0),
      hash bytea not null check (length(hash) = 32),
      primary key (level, idx)
    )`);
    this.addSql(`create table "audit".checkpoints (
      tree_size bigint primary key check (tree_size >= 0),
      root_hash bytea not null,
      note text not null,
      signed_at timestamptz not null default now()
    )`);
    this.addSql(`create function "audit".refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'the audit log is append-only: % on %.% refused', tg_op, tg_table_schema, tg_table_name
          using errcode = 'insufficient_privilege';
      end $$`);
    for (const table of ['entries', 'tree_nodes', 'checkpoints']) {
      this.addSql(`revoke update, delete, truncate on "audit".${table} from current_user, public`);
      this.addSql(`create trigger ${table}_append_only before update or delete on "audit".${table}
        for each row execute function "audit".refuse_change()`);
      this.addSql(`create trigger ${table}_no_truncate before truncate on "audit".${table}
        for each statement execute function "audit".refuse_change()`);
    }

    this.addSql(`create table "audit".parked_events (
      id bigserial primary key,
      subject text not null,
      stream text not null,
      stream_seq bigint not null,
      payload bytea not null,
      error text not null,
      parked_at timestamptz not null default now()
    )`);
    this.addSql('create index parked_by_stream_position on "audit".parked_events (stream, stream_seq)');
    this.addSql(`create table "audit".agencies (
      agency_id text primary key,
      kind text not null,
      region text not null,
      version bigint not null
    )`);
    this.addSql(`create table "audit".referrals (
      referral_id uuid primary key,
      from_agency text not null,
      to_agency text not null,
      priority text not null,
      state text not null,
      reason text not null,
      needs text[] not null,
      version bigint not null,
      sent_at timestamptz not null,
      acknowledged_at timestamptz,
      accepted_at timestamptz,
      contact_at timestamptz,
      closed_at timestamptz,
      declined_at timestamptz,
      withdrawn_at timestamptz,
      acknowledge_due_at timestamptz,
      accept_due_at timestamptz,
      escalations integer not null default 0,
      accept_escalations integer not null default 0
    )`);
    this.addSql('create index audit_referrals_sent on "audit".referrals (sent_at)');
    this.addSql('create index audit_referrals_to on "audit".referrals (to_agency, sent_at)');
    this.addSql('create index audit_referrals_from on "audit".referrals (from_agency, sent_at)');
    // Open referrals are few: the "past due" figures read them live, through this index.
    this.addSql(`create index audit_referrals_open on "audit".referrals (to_agency)
      where state in ('sent', 'acknowledged')`);

    // Hand-off times by month, receiving agency and priority, as histograms: a report over a
    // million referrals adds these up instead of sorting every duration (domain/duration-histogram.ts).
    this.addSql(`create function "audit".duration_bucket(seconds float8) returns integer
      language sql immutable parallel safe as $$
        select case when seconds is null or seconds <= 0 then 0
                    when seconds < 3600 then floor(seconds / 60)::integer
                    else least(60 + floor(ln(seconds / 3600) / ln(1.02) + 1e-9)::integer, 579) end $$`);
    this.addSql(`create function "audit".add_counts(a integer[], b integer[]) returns integer[]
      language sql immutable parallel safe as $$
        select coalesce(array_agg(coalesce(x, 0) + coalesce(y, 0) order by i), '{}')
        from unnest(a, b) with ordinality as t(x, y, i) $$`);
    this.addSql(`create aggregate "audit".sum_counts(integer[]) (
      sfunc = "audit".add_counts, stype = integer[], initcond = '{}', parallel = safe)`);
    this.addSql(`create table "audit".handoff_rollup (
      month date not null,
      to_agency text not null,
      priority text not null,
      referrals integer not null default 0,
      acknowledged_in_time integer not null default 0,
      accepted_in_time integer not null default 0,
      escalations integer not null default 0,
      accept_escalations integer not null default 0,
      acknowledge integer[] not null default '{}',
      accept integer[] not null default '{}',
      first_contact integer[] not null default '{}',
      close integer[] not null default '{}',
      acknowledge_max float8 not null default 0,
      accept_max float8 not null default 0,
      first_contact_max float8 not null default 0,
      close_max float8 not null default 0,
      primary key (month, to_agency, priority)
    )`);
  }
}
