/**
 * Stream and subject names (DESIGN.md, "Event subjects"). A namespace prefixes both, so
 * that test files and side-by-side demos can share one NATS server without sharing state;
 * in a deployment it is empty and the names are exactly those of the design.
 */
export type Area = 'referral' | 'consent' | 'directory' | 'audit';

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  /** How long JetStream keeps messages; the bus carries no personal data (principle 2). */
  readonly maxAgeMs: number;
}

const day = 24 * 60 * 60 * 1000;

const streams: Record<Area, { name: string; maxAgeMs: number }> = {
  referral: { name: 'REFERRALS', maxAgeMs: 400 * day },
  consent: { name: 'CONSENT', maxAgeMs: 400 * day },
  directory: { name: 'DIRECTORY', maxAgeMs: 90 * day },
  audit: { name: 'AUDIT', maxAgeMs: 400 * day },
};

const token = /^[a-z0-9_-]+$/;

export class Topology {
  readonly namespace: string;

  constructor(namespace = '') {
    if (namespace !== '' && !/^[a-z0-9_]+$/.test(namespace)) {
      throw new Error(`NATS namespace "${namespace}" must be lowercase letters, digits and underscores`);
    }
    this.namespace = namespace;
  }

  #prefix(subject: string): string {
    return this.namespace ? `${this.namespace}.${subject}` : subject;
  }

  /** The event type without namespace, e.g. "directory.v1.agency_upserted", from a full subject. */
  typeOf(subject: string): string {
    const prefix = this.namespace ? `${this.namespace}.` : '';
    return subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
  }

  stream(area: Area): StreamSpec {
    const spec = streams[area];
    return {
      name: this.namespace ? `${this.namespace.toUpperCase()}_${spec.name}` : spec.name,
      subjects: [this.#prefix(`${area}.v1.>`)],
      maxAgeMs: spec.maxAgeMs,
    };
  }

  allStreams(): StreamSpec[] {
    return (Object.keys(streams) as Area[]).map((area) => this.stream(area));
  }

  /** `directory.v1.<event>` */
  directory(event: string): string {
    return this.#prefix(`directory.v1.${checkToken(event)}`);
  }

  /** `consent.v1.<event>` */
  consent(event: string): string {
    return this.#prefix(`consent.v1.${checkToken(event)}`);
  }

  /** `audit.v1.<event>` */
  audit(event: string): string {
    return this.#prefix(`audit.v1.${checkToken(event)}`);
  }

  /** `referral.v1.<from-agency>.<to-agency>.<event>` */
  referral(fromAgency: string, toAgency: string, event: string): string {
    return this.#prefix(`referral.v1.${checkToken(fromAgency)}.${checkToken(toAgency)}.${checkToken(event)}`);
  }

  /** Every referral event, `referral.v1.*.*.*`: what the referrals service publishes. */
  anyReferral(): string {
    return this.#prefix('referral.v1.*.*.*');
  }

  /** An agency's inbound feed: one filter subject, so it works on NATS 2.9. */
  referralsTo(agency: string): string {
    return this.#prefix(`referral.v1.*.${checkToken(agency)}.>`);
  }

  /** An agency's outbound feed. */
  referralsFrom(agency: string): string {
    return this.#prefix(`referral.v1.${checkToken(agency)}.*.>`);
  }

  /** Everything in one area (the audit service's view). */
  everything(area: Area): string {
    return this.#prefix(`${area}.v1.>`);
  }
}

function checkToken(value: string): string {
  if (!token.test(value)) throw new Error(`"${value}" is not a valid subject token (lowercase slug expected)`);
  return value;
}
