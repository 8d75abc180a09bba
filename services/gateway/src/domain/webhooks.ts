import { PassageError } from '@passage/errors';

/**
 * Webhooks (ADR 46): which endpoints an agency may register, which of its referral events go
 * to them, what a delivery says, when a failed one is tried again and which may go now. Pure:
 * no clock, no randomness, no network of its own (the caller brings them).
 */

/** The referral events a subscription may ask for (the subject's last token). */
export const webhookEventTypes = [
  'sent',
  'acknowledged',
  'accepted',
  'declined',
  'contact_recorded',
  'closed',
  'withdrawn',
  'escalated',
  'taken_over',
  'assigned',
  'unassigned',
  'message_posted',
] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** What a subscription gets when it names no events: what an agency's own system must act on. */
export const defaultEventTypes: readonly WebhookEventType[] = ['sent', 'escalated', 'withdrawn', 'message_posted'];

export const isWebhookEventType = (value: string): value is WebhookEventType =>
  (webhookEventTypes as readonly string[]).includes(value);

/** received: referrals sent to the agency; sent: referrals the agency sent. One NATS filter each. */
export type Direction = 'received' | 'sent';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

/**
 * public-https: https only, to a host whose every address is public (production);
 * any: http too, and any address (PASSAGE_ENV=development only: a receiver on this machine).
 */
export type UrlPolicy = 'public-https' | 'any';

/** Who manages subscriptions: an agency's supervisor or integration client (system), or the administrator. */
export interface WebhookCaller {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
}

/**
 * The agency a caller acts for: its own; an administrator must name one. A supervisor or an
 * integration client naming another agency is refused.
 */
export function agencyFor(caller: WebhookCaller, requested: string): string {
  if (caller.roles.includes('admin')) {
    if (!requested)
      throw PassageError.invalid([
        { field: 'agency_id', description: 'name the agency (an administrator acts for any)' },
      ]);
    return requested;
  }
  if (!caller.roles.includes('supervisor') && !caller.roles.includes('system')) {
    throw new PassageError(
      'permission_denied',
      "an agency's webhooks are managed by its supervisor or its integration client",
    );
  }
  if (requested && requested !== caller.agencyId) {
    throw new PassageError('permission_denied', "only your own agency's webhooks");
  }
  return caller.agencyId;
}

/** Whether the caller may see and change a subscription of that agency. */
export function mayManage(caller: WebhookCaller, agencyId: string): boolean {
  if (caller.roles.includes('admin')) return true;
  return (caller.roles.includes('supervisor') || caller.roles.includes('system')) && caller.agencyId === agencyId;
}

const urlField = 'url';

/**
 * The endpoint, checked as far as its text allows: a URL, https (http only under `any`), no
 * user or password, a host; under public-https an address literal or a name that is this
 * machine must be public. The addresses a name resolves to are checked by the caller with
 * addressRefusal, at registration and again at every delivery.
 */
export function checkWebhookUrl(text: string, policy: UrlPolicy): URL {
  const refuse = (description: string): never => {
    throw PassageError.invalid([{ field: urlField, description }]);
  };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return refuse('not a URL: https://host/path');
  }
  if (url.protocol !== 'https:' && !(policy === 'any' && url.protocol === 'http:')) {
    refuse(policy === 'any' ? 'an http:// or https:// address' : 'an https:// address (http only in development)');
  }
  if (url.username || url.password) refuse('no user or password in the address: deliveries are signed instead');
  if (!url.hostname) refuse('the address names no host');
  if (url.hash) refuse('no #fragment: it is never sent');
  if (policy === 'public-https') {
    const host = hostName(url);
    if (host === 'localhost' || host.endsWith('.localhost')) refuse('the host is this machine (loopback): refused');
    const literal = isIpAddress(host) ? addressRefusal(host) : undefined;
    if (literal) refuse(refusalText(literal, host));
  }
  return url;
}

/** The URL's host without an IPv6 literal's brackets, lowercase. */
export function hostName(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** What the audit log names of an endpoint: its host and port, never its path or query. */
export function endpointHost(url: URL): string {
  return url.host;
}

/** Why an address may not receive a delivery in production: the kind of address it is. */
export type AddressRefusal =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'metadata'
  | 'multicast'
  | 'documentation'
  | 'reserved';

export function refusalText(refusal: AddressRefusal, address: string): string {
  const kinds: Record<AddressRefusal, string> = {
    unspecified: 'an unspecified address',
    loopback: 'a loopback address',
    private: 'a private address (RFC 1918 or unique local)',
    link_local: 'a link-local address',
    shared: 'a shared (carrier-grade NAT) address',
    metadata: "a cloud provider's metadata address",
    multicast: 'a multicast address',
    documentation: 'a documentation address',
    reserved: 'a reserved address',
  };
  return `the host resolves to ${kinds[refusal]} (${address}): refused outside development`;
}

type Range = readonly [prefix: bigint, bits: number, refusal: AddressRefusal];

const v4 = (text: string, bits: number, refusal: AddressRefusal): Range => [ipv4Value(text)!, bits, refusal];
const v6 = (text: string, bits: number, refusal: AddressRefusal): Range => [ipv6Value(text)!, bits, refusal];

/** Exact addresses first: the metadata services clouds answer on (inside the ranges below too). */
const metadataAddresses = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2::254',
]);

const ipv4Ranges: readonly Range[] = [
  v4('0.0.0.0', 8, 'unspecified'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'shared'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link_local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'),
  v4('192.0.2.0', 24, 'documentation'),
  v4('192.88.99.0', 24, 'reserved'),
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'reserved'),
  v4('198.51.100.0', 24, 'documentation'),
  v4('203.0.113.0', 24, 'documentation'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
];

const ipv6Ranges: readonly Range[] = [
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('::', 96, 'reserved'), // IPv4-compatible (deprecated)
  v6('64:ff9b:1::', 48, 'private'), // local-use NAT64
  v6('100::', 64, 'reserved'), // discard
  v6('2001::', 32, 'reserved'), // Teredo
  v6('2001:db8::', 32, 'documentation'),
  v6('fc00::', 7, 'private'), // unique local
  v6('fe80::', 10, 'link_local'),
  v6('fec0::', 10, 'private'), // site-local (deprecated)
  v6('ff00::', 8, 'multicast'),
];

/**
 * Why an IP address may not be delivered to in production, or undefined for a public one.
 * An IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 one.
 */
export function addressRefusal(address: string): AddressRefusal | undefined {
  const text = address.toLowerCase();
  const four = ipv4Value(text);
  if (four !== undefined) {
    if (metadataAddresses.has(text)) return 'metadata';
    return within(four, 32, ipv4Ranges);
  }
  const six = ipv6Value(text);
  if (six === undefined) return 'reserved'; // not an address at all: never connect to it
  const embedded = embeddedIpv4(six);
  if (embedded !== undefined) return addressRefusal(ipv4Text(embedded));
  if (metadataAddresses.has(ipv6Text(six))) return 'metadata';
  return within(six, 128, ipv6Ranges);
}

function within(value: bigint, width: number, ranges: readonly Range[]): AddressRefusal | undefined {
  // The most specific range that holds the value.
  let found: Range | undefined;
  for (const range of ranges) {
    const [prefix, bits] = range;
    const shift = BigInt(width - bits);
    if (value >> shift === prefix >> shift && (!found || bits > found[1])) found = range;
  }
  return found?.[2];
}

/** The IPv4 address inside a mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) one. */
function embeddedIpv4(value: bigint): bigint | undefined {
  const low32 = value & 0xffffffffn;
  if (value >> 32n === 0xffffn) return low32;
  if (value >> 32n === ipv6Value('64:ff9b::')! >> 32n) return low32;
  if (value >> 112n === 0x2002n) return (value >> 80n) & 0xffffffffn;
  return undefined;
}

export function isIpAddress(text: string): boolean {
  return ipv4Value(text) !== undefined || ipv6Value(text) !== undefined;
}

function ipv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((sum, part) => (sum << 8n) + BigInt(part), 0n);
}

function ipv4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function ipv6Value(text: string): bigint | undefined {
  if (!/^[0-9a-f:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  let groups: number[];
  const parse = (side: string): number[] | undefined => {
    if (side === '') return [];
    const out: number[] = [];
    const items = side.split(':');
    for (const [index, item] of items.entries()) {
      if (index === items.length - 1 && item.includes('.')) {
        const four = ipv4Value(item);
        if (four === undefined) return undefined;
        out.push(Number(four >> 16n), Number(four & 0xffffn));
      } else if (/^[0-9a-f]{1,4}$/.test(item)) out.push(parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const halves = text.split('::');
  if (halves.length === 2) {
    const head = parse(halves[0]!);
    const tail = parse(halves[1]!);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parse(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(group), 0n);
}

/** The canonical (RFC 5952) text of an IPv6 address. */
function ipv6Text(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, length: 0 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i > 1) best = { at: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`;
}

/** The facts of one referral event that a delivery carries: ids, codes, states and times. */
export interface WebhookEventFacts {
  readonly eventId: string;
  readonly type: WebhookEventType;
  readonly referralId: string;
  readonly occurredAt: Date;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority: string;
  /** From ReferralChanged: the referral after the step. Empty or 0 for message_posted. */
  readonly reference: string;
  readonly state: string;
  readonly version: number;
  /** A reason or outcome code (never free text): an escalation's overdue target, a decline's reason. */
  readonly reason: string;
  /** message_posted: the message and the agency whose worker wrote it. */
  readonly messageId: string;
  readonly authorAgency: string;
}

/**
 * A delivery's body, as the Standard Webhooks specification shapes it: `type`, `timestamp` (the
 * event's time) and `data`. Thin: what happened to which referral, never what it holds.
 */
export function webhookPayload(facts: WebhookEventFacts): string {
  const data: Record<string, string | number> = {
    event_id: facts.eventId,
    referral_id: facts.referralId,
    from_agency: facts.fromAgency,
    to_agency: facts.toAgency,
    priority: facts.priority,
    occurred_at: facts.occurredAt.toISOString(),
  };
  if (facts.reference) data['reference'] = facts.reference;
  if (facts.state) data['state'] = facts.state;
  if (facts.version) data['version'] = facts.version;
  if (facts.reason) data['reason'] = facts.reason;
  if (facts.messageId) {
    data['message_id'] = facts.messageId;
    data['author_agency'] = facts.authorAgency;
  }
  return JSON.stringify({ type: `referral.${facts.type}`, timestamp: facts.occurredAt.toISOString(), data });
}

/** When failed deliveries are tried again, and for how long. */
export interface RetryPolicy {
  /** The first retry's delay; doubling per attempt. */
  readonly baseMs: number;
  /** The longest delay between two attempts. */
  readonly capMs: number;
  /** A delivery still failing this long after its first attempt is given up on. */
  readonly windowMs: number;
  /** Each delay is spread by up to this share either way, so receivers are not hit in waves. */
  readonly jitter: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseMs: 5_000,
  capMs: 3_600_000,
  windowMs: 24 * 3_600_000,
  jitter: 0.2,
};

/**
 * After a failed attempt: when to try again, or undefined to give up. A delivery is tried again
 * for as long as its window lasts: only an attempt that fails once the window has passed since
 * the first is the last, so every delivery is tried for at least the window (24 hours).
 * `attempts`: the attempts made, this one included. `random` in [0, 1).
 */
export function retryAfterFailure(
  attempts: number,
  firstAttemptAt: Date,
  failedAt: Date,
  random: number,
  policy: RetryPolicy = defaultRetryPolicy,
): Date | undefined {
  if (failedAt.getTime() - firstAttemptAt.getTime() >= policy.windowMs) return undefined;
  const delay = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(40, Math.max(0, attempts - 1)));
  const spread = 1 - policy.jitter + 2 * policy.jitter * random;
  return new Date(failedAt.getTime() + Math.round(delay * spread));
}

/** A receiver's answer counts as delivered when it is 2xx; anything else (a redirect included) is retried. */
export function isDelivered(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A due delivery, as the queue finds it: whether an earlier one of its referral is still pending. */
export interface DueDelivery {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  readonly referralId: string;
  readonly sequence: number;
  /** An earlier delivery of the same subscription and referral is neither delivered nor given up on. */
  readonly blocked: boolean;
}

/**
 * Which due deliveries may go now: in order per referral, a delivery waits while an earlier one
 * of its referral (for the same subscription) is pending — delivered, given up on or cancelled
 * lets it go — and at most one per referral goes at once.
 */
export function deliverable<T extends DueDelivery>(due: readonly T[]): T[] {
  const first = new Map<string, T>();
  for (const delivery of due) {
    if (delivery.blocked) continue;
    const key = `${delivery.subscriptionId} ${delivery.referralId}`;
    const held = first.get(key);
    if (!held || delivery.sequence < held.sequence) first.set(key, delivery);
  }
  return [...first.values()];
}
