import type { TableGrants } from '@passage/platform';

/**
 * The tables every event-producing or event-consuming service keeps in its own schema.
 * Each service's first migration applies this SQL, so the tables live and die with the
 * service's data.
 */
export function eventTablesSql(schema: string): string[] {
  const s = quoteIdent(schema);
  return [
    `create table ${s}.outbox (
       seq bigserial primary key,
       id uuid not null unique,
       subject text not null,
       payload bytea not null,
       trace_context jsonb not null default '{}'::jsonb,
       created_at timestamptz not null default now(),
       published_at timestamptz,
       attempts integer not null default 0,
       last_error text
     )`,
    `create index outbox_unpublished on ${s}.outbox (seq) where published_at is null`,
    `create table ${s}.inbox (
       consumer text not null,
       event_id uuid not null,
       processed_at timestamptz not null default now(),
       primary key (consumer, event_id)
     )`,
    `create table ${s}.parked_events (
       consumer text not null,
       event_id text not null,
       subject text not null,
       payload bytea not null,
       attempts integer not null,
       error text not null,
       parked_at timestamptz not null default now(),
       primary key (consumer, event_id)
     )`,
  ];
}

/**
 * What a service's runtime role may do with those tables (docs/adr/0028-database-login-roles.md):
 * enqueue and mark published, record and park deliveries; delete what the Pruner lets go of
 * (published outbox rows, inbox rows past the deduplication window) and a parked event once a
 * replay applied it (docs/adr/0033-retention.md).
 */
export const eventTableGrants: TableGrants = {
  outbox: ['select', 'insert', 'update', 'delete'],
  inbox: ['select', 'insert', 'delete'],
  parked_events: ['select', 'insert', 'update', 'delete'],
};

export function quoteIdent(identifier: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(identifier)) throw new Error(`unsafe SQL identifier "${identifier}"`);
  return `"${identifier}"`;
}

/** The LISTEN/NOTIFY channel the relay of a schema's outbox waits on. */
export function outboxChannel(schema: string): string {
  return `${quoteIdent(schema).slice(1, -1)}_outbox`;
}
