import type { EntityManager } from '@mikro-orm/postgresql';
import { encodeEnvelope, type Envelope } from './envelope.ts';
import { outboxChannel, quoteIdent } from './schema-sql.ts';
import { currentTraceCarrier } from './trace-context.ts';

/**
 * Writes events into the service's outbox inside the caller's transaction: the state
 * change and its events commit together or not at all (principle 3). The NOTIFY is
 * delivered on commit, waking the relay; a rolled-back transaction wakes nobody.
 */
export async function enqueueEvents(
  em: EntityManager,
  schema: string,
  items: ReadonlyArray<{ subject: string; envelope: Envelope }>,
): Promise<void> {
  if (items.length === 0) return;
  if (!em.isInTransaction()) throw new Error('enqueueEvents must run inside the transaction that changes the state');
  const rows = outboxRows(items);
  // One round trip: the rows, and the NOTIFY (delivered at commit) that wakes the relay.
  await em.execute(
    `with written as (
       insert into ${quoteIdent(schema)}.outbox (id, subject, payload, trace_context)
       select * from (values ${rows.sql}) as row (id, subject, payload, trace_context) returning 1
     )
     select ${outboxNotify(schema)} from (select 1 from written limit 1) as any_row`,
    rows.params,
  );
}

/**
 * Outbox rows as a typed VALUES list `(id, subject, payload, trace_context)` with its
 * parameters, carrying the active trace context; for a statement that writes a state
 * change and its events at once.
 */
export function outboxRows(items: ReadonlyArray<{ subject: string; envelope: Envelope }>): {
  sql: string;
  params: unknown[];
} {
  const trace = JSON.stringify(currentTraceCarrier());
  return {
    sql: items.map(() => '(?::uuid, ?, ?::bytea, ?::jsonb)').join(', '),
    params: items.flatMap((item) => [
      item.envelope.id,
      item.subject,
      Buffer.from(encodeEnvelope(item.envelope)),
      trace,
    ]),
  };
}

/** The SQL expression that wakes a schema's relay when the transaction commits. */
export function outboxNotify(schema: string): string {
  return `pg_notify('${outboxChannel(schema)}', '')`;
}
