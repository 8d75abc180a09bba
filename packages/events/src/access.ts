import type { Area, Topology } from './topology.ts';

/**
 * What each service does on the bus: the streams it ensures at start, the subjects its outbox
 * publishes, the durable consumers it owns and the ephemeral consumers it opens. The services
 * take their streams and durable consumers from here (openServiceRuntime, durableConsumer), and
 * their NATS users' permissions are computed from it (natsPermissions), so the two cannot drift
 * apart (docs/adr/0027-nats-credentials.md).
 */
export const serviceNames = ['directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway'] as const;
export type ServiceName = (typeof serviceNames)[number];

/** The events the directory's outbox writes (`directory.v1.<event>`). */
export const directoryEvents = ['agency_upserted'] as const;
export type DirectoryEvent = (typeof directoryEvents)[number];

/** The events the consent service's outbox writes (`consent.v1.<event>`). */
export const consentEvents = ['granted', 'amended', 'revoked', 'expired', 'police_access', 'subject_erased'] as const;
export type ConsentEvent = (typeof consentEvents)[number];

/**
 * What an administrator's replay of a parked event publishes, through the outbox of the service
 * that parked it (`audit.v1.parked_event_replayed`; docs/adr/0033-retention.md).
 */
export const parkedEventReplayed = 'parked_event_replayed';

/** A durable pull consumer: its name, and the stream it reads whole (filter `<area>.v1.>`). */
export interface DurableSpec {
  readonly name: string;
  readonly area: Area;
}

/**
 * Durable pull consumers a service makes and removes while it runs, one for each thing it keeps
 * (a webhook subscription, ADR 46): named `<prefix><id>`, each with one filter under `filters`.
 */
export interface DurableFamilySpec {
  readonly prefix: string;
  readonly area: Area;
  /** Each filter as a pattern: a consumer's filter must fall under one of them. */
  readonly filters: (topology: Topology) => readonly string[];
}

/** Ephemeral consumers a service opens and deletes on one stream, and the filter subjects they may have. */
export interface EphemeralSpec {
  readonly area: Area;
  /** Each filter as a pattern: a consumer's filter must fall under one of them. */
  readonly filters: (topology: Topology) => readonly string[];
}

export interface ServiceAccess {
  /** Streams created, or brought up to date, at start (ensureStreams). */
  readonly ensures: readonly Area[];
  /** Subjects its outbox publishes. */
  readonly publishes: (topology: Topology) => readonly string[];
  readonly durables: readonly DurableSpec[];
  /** Durable consumers made at run time; none when not given. */
  readonly durableFamilies?: readonly DurableFamilySpec[];
  readonly ephemerals: readonly EphemeralSpec[];
  /** Streams it reads single messages from by sequence (the audit service's check of a stream). */
  readonly readsMessages: readonly Area[];
}

/** The gateway's webhook consumers: `gateway-webhook-<subscription id>` (ADR 46). */
export const webhookConsumerPrefix = 'gateway-webhook-';

const everyArea: readonly Area[] = ['referral', 'consent', 'directory', 'audit'];
const nothing = (): readonly string[] => [];

export const serviceAccess = {
  directory: {
    ensures: ['directory'],
    publishes: (t) => directoryEvents.map((event) => t.directory(event)),
    durables: [],
    ephemerals: [],
    readsMessages: [],
  },
  consent: {
    // audit: every read of a receipt or a history is recorded there (audit.v1.access).
    ensures: ['consent', 'directory', 'audit'],
    publishes: (t) => [
      ...consentEvents.map((event) => t.consent(event)),
      t.audit('access'),
      t.audit(parkedEventReplayed),
    ],
    durables: [{ name: 'consent-agencies', area: 'directory' }],
    ephemerals: [],
    readsMessages: [],
  },
  referrals: {
    ensures: ['referral', 'audit', 'consent'],
    publishes: (t) => [t.anyReferral(), t.audit('access'), t.audit(parkedEventReplayed)],
    durables: [{ name: 'referrals-consent-changes', area: 'consent' }],
    ephemerals: [],
    readsMessages: [],
  },
  audit: {
    // Reads every stream whole, one ephemeral consumer each, and publishes nothing.
    ensures: everyArea,
    publishes: nothing,
    durables: [],
    ephemerals: everyArea.map((area) => ({ area, filters: (t: Topology) => [t.everything(area)] })),
    readsMessages: everyArea,
  },
  escalation: {
    // audit: the replays of its parked events, its outbox's only events.
    ensures: ['referral', 'audit'],
    publishes: (t) => [t.audit(parkedEventReplayed)],
    durables: [{ name: 'escalation-referrals', area: 'referral' }],
    ephemerals: [],
    readsMessages: [],
  },
  gateway: {
    // The live feeds: an agency's referrals, and (auditors) the scopes that let police read.
    // audit: every administration of a person's account or an integration client
    // (audit.v1.admin_action, ADR 30, ADR 45); every token request and call of an integration
    // client (audit.v1.client_token, audit.v1.client_call, ADR 45); the FHIR bulk export it
    // serves itself, recorded as an access (audit.v1.access, ADR 44).
    // gateway-notifications: the referral events that notify people (ADR 40).
    // gateway-webhook-<subscription id>: one durable consumer per webhook subscription, on the
    // agency's received or sent referrals; audit.v1.webhook_changed: who changed one (ADR 46).
    ensures: ['referral', 'audit'],
    publishes: (t) => [
      t.audit('admin_action'),
      t.audit('client_token'),
      t.audit('client_call'),
      t.audit('webhook_changed'),
      t.audit('access'),
    ],
    durables: [{ name: 'gateway-notifications', area: 'referral' }],
    durableFamilies: [{ prefix: webhookConsumerPrefix, area: 'referral', filters: (t) => [t.everything('referral')] }],
    ephemerals: [
      { area: 'referral', filters: (t) => [t.everything('referral')] },
      { area: 'consent', filters: (t) => [t.consent('police_access')] },
    ],
    readsMessages: [],
  },
} as const satisfies Record<ServiceName, ServiceAccess>;

type DurableOf<S extends ServiceName> = (typeof serviceAccess)[S]['durables'][number]['name'];
export type DurableName = { [S in ServiceName]: DurableOf<S> }[ServiceName];

export function isServiceName(name: string): name is ServiceName {
  return (serviceNames as readonly string[]).includes(name);
}

/** A declared durable consumer's name, stream and filter, for IdempotentConsumer. */
export function durableConsumer(
  topology: Topology,
  name: DurableName,
): { readonly name: string; readonly stream: string; readonly filterSubject: string } {
  const spec = serviceNames
    .flatMap((service) => serviceAccess[service].durables as readonly DurableSpec[])
    .find((durable) => durable.name === name);
  if (!spec) throw new Error(`no durable consumer ${name} is declared`);
  return { name, stream: topology.stream(spec.area).name, filterSubject: topology.everything(spec.area) };
}

/**
 * A durable consumer of a declared family (a webhook subscription's): its name, stream and
 * filter, for IdempotentConsumer. The filter must fall under one of the family's.
 */
export function familyDurable(
  topology: Topology,
  prefix: string,
  id: string,
  filterSubject: string,
): { readonly name: string; readonly stream: string; readonly filterSubject: string } {
  const family = serviceNames
    .flatMap((service) => (serviceAccess[service] as ServiceAccess).durableFamilies ?? [])
    .find((spec) => spec.prefix === prefix);
  if (!family) throw new Error(`no durable consumer family ${prefix} is declared`);
  if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`"${id}" cannot end a consumer's name`);
  if (!family.filters(topology).some((pattern) => subjectWithin(filterSubject, pattern))) {
    throw new Error(`${filterSubject} is not a filter the ${prefix} consumers may have`);
  }
  return { name: `${prefix}${id}`, stream: topology.stream(family.area).name, filterSubject };
}

/** Whether every subject a filter matches is matched by the pattern too (NATS wildcards, token by token). */
export function subjectWithin(filter: string, pattern: string): boolean {
  const f = filter.split('.');
  const p = pattern.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i < f.length;
    if (i >= f.length || f[i] === '>') return false;
    if (p[i] !== '*' && p[i] !== f[i]) return false;
  }
  return f.length === p.length;
}

/**
 * The name of an ephemeral consumer: `<service>-<random>`. Named, so that the filter subject is
 * part of the JetStream API subject and the NATS permissions can hold it; random, so that no
 * other user can guess it.
 */
export function ephemeralName(service: string): string {
  return `${service}-${crypto.randomUUID()}`;
}
