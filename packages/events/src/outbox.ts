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
  const trace = JSON.stringify(currentTraceCarrier());
  const values: unknown[] = [];
  const rows = items.map((item) => {
    values.push(item.envelope.id, item.subject, Buffer.from(encodeEnvelope(item.envelope)), trace);
    return '(?, ?, ?, ?::jsonb)';
  });
  // One round trip: the rows, and the NOTIFY (delivered at commit) that wakes the relay.
  await em.execute(
    `with written as (
       insert into ${quoteIdent(schema)}.outbox (id, subject, payload, trace_context) values ${rows.join(', ')} returning 1
     )
     select pg_notify('${outboxChannel(schema)}', '') from (select 1 from written limit 1) as any_row`,
    values,
  );
}
