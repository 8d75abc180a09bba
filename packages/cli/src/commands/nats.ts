import { Topology, renderNatsAuthorization } from '@passage/events';
import { UsageError } from '../connection.ts';

/**
 * `passage nats config [--namespace NS]`: the nats-server `authorization` block, one user per
 * service with the permissions its declared access needs (docs/adr/0027-nats-credentials.md).
 * deploy/nats/authorization.conf is its output; `pnpm gen:check` fails when they differ.
 */
export function natsConfig(flags: { readonly namespace?: string | undefined }, print: (line: string) => void): number {
  let topology: Topology;
  try {
    topology = new Topology(flags.namespace ?? '');
  } catch (error) {
    throw new UsageError(`--namespace: ${(error as Error).message}`);
  }
  print(renderNatsAuthorization(topology).trimEnd());
  return 0;
}
