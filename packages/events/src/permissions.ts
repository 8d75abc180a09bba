import { randomBytes } from 'node:crypto';
import {
  serviceAccess,
  serviceNames,
  type DurableFamilySpec,
  type DurableSpec,
  type EphemeralSpec,
  type ServiceAccess,
  type ServiceName,
} from './access.ts';
import type { Topology } from './topology.ts';

/**
 * A nats-server user's permissions, computed from the services' declared access
 * (access.ts): exactly the subjects, and the JetStream API requests, that nats.js 3 sends to a
 * 2.9 server for what the service does. Found by running every service's operations against a
 * server that allowed nothing else (packages/events/test/permissions.test.ts).
 */
export interface NatsPermissions {
  readonly publish: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
}

const api = '$JS.API';

/**
 * Where a service's replies arrive: requests and pull consumers answer to inboxes under it,
 * and its user may subscribe there only, so that no service reads another's replies.
 */
export function natsInboxPrefix(service: string): string {
  return `_INBOX.${service}`;
}

function allDurables(): DurableSpec[] {
  return serviceNames.flatMap((service) => serviceAccess[service].durables as readonly DurableSpec[]);
}

export function natsPermissions(service: ServiceName, topology: Topology): NatsPermissions {
  const access = serviceAccess[service];
  const stream = (area: Parameters<Topology['stream']>[0]) => topology.stream(area).name;
  const allow = new Set<string>();
  const deny = new Set<string>();
  // jetstreamManager() asks for the account's JetStream information first.
  allow.add(`${api}.INFO`);
  for (const area of access.ensures) {
    for (const verb of ['INFO', 'CREATE', 'UPDATE']) allow.add(`${api}.STREAM.${verb}.${stream(area)}`);
  }
  for (const durable of access.durables as readonly DurableSpec[]) {
    const s = stream(durable.area);
    // nats.js names the consumer and its one filter in the subject (the 2.9 consumer API), for
    // creating it and for updating it alike.
    allow.add(`${api}.CONSUMER.INFO.${s}.${durable.name}`);
    allow.add(`${api}.CONSUMER.CREATE.${s}.${durable.name}.${topology.everything(durable.area)}`);
    allow.add(`${api}.CONSUMER.MSG.NEXT.${s}.${durable.name}`);
    allow.add(`$JS.ACK.${s}.${durable.name}.>`);
  }
  // Consumers named at run time, ephemeral or durable: any name on the stream, one of its filters.
  const runTime: readonly (EphemeralSpec | DurableFamilySpec)[] = [
    ...access.ephemerals,
    ...((access as ServiceAccess).durableFamilies ?? []),
  ];
  for (const ephemeral of runTime) {
    const s = stream(ephemeral.area);
    allow.add(`${api}.STREAM.INFO.${s}`);
    for (const filter of ephemeral.filters(topology)) allow.add(`${api}.CONSUMER.CREATE.${s}.*.${filter}`);
    for (const verb of ['INFO', 'MSG.NEXT', 'DELETE']) allow.add(`${api}.CONSUMER.${verb}.${s}.*`);
    allow.add(`$JS.ACK.${s}.>`);
    // Any name on the stream, but never another's durable consumer: it could take its events.
    for (const durable of allDurables().filter((d) => d.area === ephemeral.area)) {
      if ((access.durables as readonly DurableSpec[]).some((own) => own.name === durable.name)) continue;
      deny.add(`${api}.CONSUMER.CREATE.${s}.${durable.name}.>`);
      deny.add(`${api}.CONSUMER.MSG.NEXT.${s}.${durable.name}`);
      deny.add(`${api}.CONSUMER.DELETE.${s}.${durable.name}`);
      deny.add(`$JS.ACK.${s}.${durable.name}.>`);
    }
  }
  for (const area of access.readsMessages) allow.add(`${api}.STREAM.MSG.GET.${stream(area)}`);
  for (const subject of access.publishes(topology)) allow.add(subject);
  return {
    publish: { allow: [...allow], deny: [...deny] },
    subscribe: { allow: [`${natsInboxPrefix(service)}.>`] },
  };
}

/**
 * The operators' user: reads and manages JetStream (stream and consumer reports, a consumer
 * removed by hand), but publishes no event and so can forge none.
 */
export const adminPermissions: NatsPermissions = {
  publish: { allow: [`${api}.>`, '$JS.ACK.>', '$JS.FC.>'], deny: [] },
  subscribe: { allow: ['_INBOX.>'] },
};

/**
 * A fresh NATS password that nats-server can take from an environment variable. The server
 * parses a variable's value as a configuration token: one that starts with a digit or a sign
 * is read as a number and refused ("Expected a digit but got 'N'") — so a letter first, then
 * letters and digits only (190 bits).
 */
export function newNatsPassword(): string {
  return `p${randomBytes(24).toString('hex')}`;
}

/** `REFERRALS_NATS_PASSWORD`: the nats-server environment variable holding a user's password. */
export function natsPasswordVariable(user: string): string {
  return `${user.toUpperCase()}_NATS_PASSWORD`;
}

function list(name: string, subjects: readonly string[], indent: string): string[] {
  if (subjects.length === 0) return [];
  return [`${indent}${name}: [`, ...subjects.map((subject) => `${indent}  "${subject}"`), `${indent}]`];
}

function renderUser(user: string, permissions: NatsPermissions): string[] {
  return [
    '    {',
    `      user: "${user}"`,
    `      password: $${natsPasswordVariable(user)}`,
    '      permissions: {',
    '        publish: {',
    ...list('allow', permissions.publish.allow, '          '),
    ...list('deny', permissions.publish.deny, '          '),
    '        }',
    '        subscribe: {',
    ...list('allow', permissions.subscribe.allow, '          '),
    '        }',
    '      }',
    '    }',
  ];
}

/**
 * The nats-server configuration fragment: one user per service, named as the service, with the
 * permissions above, and the operators' `admin`. Passwords are the server's environment
 * variables (`$DIRECTORY_NATS_PASSWORD` …), never in the file. `pnpm passage nats config`
 * prints it; deploy/nats/authorization.conf is what it printed (`pnpm gen:check` compares).
 */
export function renderNatsAuthorization(topology: Topology): string {
  const namespace = topology.namespace ? ` --namespace ${topology.namespace}` : '';
  return [
    `# Generated by \`pnpm passage nats config${namespace}\` from packages/events/src/access.ts: do not edit.`,
    '# One user per service, allowed only what that service does on the bus; an admin user for',
    '# operators. Each password comes from the server environment (<USER>_NATS_PASSWORD).',
    'authorization {',
    '  users = [',
    ...serviceNames.flatMap((service) => renderUser(service, natsPermissions(service, topology))),
    ...renderUser('admin', adminPermissions),
    '  ]',
    '}',
    '',
  ].join('\n');
}
