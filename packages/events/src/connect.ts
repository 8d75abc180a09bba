import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';

/**
 * A service's NATS connection: it never gives up reconnecting, because a service that
 * stopped trying after a long NATS outage would sit idle while reporting itself alive.
 * Outbox rows wait in Postgres meanwhile, so nothing is lost.
 */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true });
}
