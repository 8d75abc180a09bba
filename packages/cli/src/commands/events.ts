import { PassageError, callUnary } from '@passage/platform';
import {
  UsageError,
  opsServices,
  parkedEventsConnection,
  type OpsService,
  type ParkedEventsConnection,
} from '../connection.ts';
import { formatRows, type Format, type Row } from '../output.ts';

export interface EventsFlags {
  readonly service?: string | undefined;
  readonly consumer?: string | undefined;
  readonly as?: string | undefined;
  readonly format: Format;
}

function servicesOf(flag: string | undefined): OpsService[] {
  const all = Object.keys(opsServices) as OpsService[];
  if (!flag) return all;
  if (!(all as string[]).includes(flag)) throw new UsageError(`--service: one of ${all.join(', ')}`);
  return [flag as OpsService];
}

async function withConnection<T>(
  env: NodeJS.ProcessEnv,
  service: OpsService,
  as: string | undefined,
  use: (connection: ParkedEventsConnection) => Promise<T>,
): Promise<T> {
  const connection = parkedEventsConnection(env, service, as);
  try {
    return await use(connection);
  } finally {
    connection.client.close();
  }
}

/**
 * `passage events parked [--service S]`: every event the services' consumers parked, asked of
 * each service (passage.ops.v1.ParkedEventsService/List). A service that does not answer is
 * named on stderr and makes the exit status 1; the others are still listed.
 */
export async function eventsParked(
  env: NodeJS.ProcessEnv,
  flags: EventsFlags,
  print: (line: string) => void,
): Promise<number> {
  const rows: Row[] = [];
  let status = 0;
  for (const service of servicesOf(flags.service)) {
    try {
      const { events } = await withConnection(env, service, flags.as, ({ client, metadata }) =>
        callUnary(client.list.bind(client), { consumer: flags.consumer ?? '', limit: 1000 }, metadata),
      );
      for (const event of events) {
        rows.push({
          service,
          consumer: event.consumer,
          event_id: event.eventId,
          type: event.type,
          attempts: event.attempts,
          parked_at: event.parkedAt?.toISOString() ?? '',
          error: event.error,
        });
      }
    } catch (error) {
      console.error(`passage: ${service}: ${(error as Error).message}`);
      status = 1;
    }
  }
  const columns = ['service', 'consumer', 'event_id', 'type', 'attempts', 'parked_at', 'error'];
  if (flags.format === 'table' && rows.length === 0) print('no parked events');
  else print(formatRows(rows, columns, flags.format));
  return status;
}

/**
 * `passage events replay ID [--service S] [--consumer C]`: the service that parked the event
 * runs its handler again (passage.ops.v1.ParkedEventsService/Replay; audited). Without
 * --service, each service is asked in turn until one holds the event. Exit 0 when applied (or
 * found applied already), 1 when it failed again and stays parked.
 */
export async function eventsReplay(
  env: NodeJS.ProcessEnv,
  eventId: string | undefined,
  flags: EventsFlags,
  print: (line: string) => void,
): Promise<number> {
  if (!eventId) throw new UsageError('usage: passage events replay EVENT_ID [--service S] [--consumer C]');
  for (const service of servicesOf(flags.service)) {
    let result;
    try {
      result = await withConnection(env, service, flags.as, ({ client, metadata }) =>
        callUnary(client.replay.bind(client), { eventId, consumer: flags.consumer ?? '' }, metadata),
      );
    } catch (error) {
      if (error instanceof PassageError && error.code === 'not_found') continue;
      throw error;
    }
    if (flags.format === 'json') print(JSON.stringify({ service, eventId, ...result }, null, 2));
    else if (result.outcome === 'failed') {
      print(
        `${service}: ${eventId} failed again and stays parked: ${result.error} (audit event ${result.auditEventId})`,
      );
    } else {
      const how = result.outcome === 'duplicate' ? 'had been applied already' : 'applied';
      print(`${service}: ${eventId} ${how}; no longer parked (audit event ${result.auditEventId})`);
    }
    return result.outcome === 'failed' ? 1 : 0;
  }
  throw new UsageError(`no service holds a parked event ${eventId}`);
}
