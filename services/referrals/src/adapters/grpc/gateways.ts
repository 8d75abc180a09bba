import { isWeekday, type OpeningHours, type Weekday } from '@passage/sla';
import { isRecipientKind, type DataCategory, type Grant } from '@passage/consent-policy';
import { consent, directory } from '@passage/contracts';
import { PassageError, bearerMetadata, callUnary, type ClientCredentials } from '@passage/platform';
import type { AgencyFacts, ConsentDecision, ConsentGateway, DirectoryGateway } from '../../app/ports.ts';

/** A dependency that does not answer makes the call fail closed, never open. */
function unavailable(what: string, error: unknown): PassageError {
  if (error instanceof PassageError && error.code !== 'unavailable' && error.code !== 'internal') return error;
  return new PassageError('unavailable', `${what} did not answer; nothing was read or changed. Try again shortly`);
}

/**
 * Agency facts change rarely (an agency stops accepting referrals, a target changes) and
 * every Send and Get needs them, so they are kept for a few seconds: a change shows within
 * `maxAgeMs`, while a burst of sends costs one directory call instead of one each.
 */
export class GrpcDirectoryGateway implements DirectoryGateway {
  readonly #client: directory.DirectoryServiceClient;
  readonly #cache = new Map<string, { facts: AgencyFacts | undefined; at: number }>();
  readonly #maxAgeMs: number;

  constructor(address: string, credentials: ClientCredentials, maxAgeMs = 5_000) {
    this.#client = new directory.DirectoryServiceClient(address, credentials);
    this.#maxAgeMs = maxAgeMs;
  }

  async agency(id: string): Promise<AgencyFacts | undefined> {
    const cached = this.#cache.get(id);
    if (cached && Date.now() - cached.at < this.#maxAgeMs) return cached.facts;
    const facts = await this.#fetch(id);
    this.#cache.set(id, { facts, at: Date.now() });
    return facts;
  }

  async #fetch(id: string): Promise<AgencyFacts | undefined> {
    try {
      const { agency } = await callUnary(this.#client.getAgency.bind(this.#client), { id }, undefined, 3000);
      if (!agency || !isRecipientKind(agency.kind) || !agency.sla) return undefined;
      const hours: OpeningHours = agency.hours?.alwaysOpen
        ? { alwaysOpen: true }
        : {
            alwaysOpen: false,
            periods: (agency.hours?.periods ?? []).filter((p): p is typeof p & { day: Weekday } => isWeekday(p.day)),
          };
      return {
        id: agency.id,
        kind: agency.kind,
        acceptingReferrals: agency.acceptingReferrals,
        sla: agency.sla,
        hours,
      };
    } catch (error) {
      if (error instanceof PassageError && error.code === 'not_found') return undefined;
      throw unavailable('the directory', error);
    }
  }

  close(): void {
    this.#client.close();
  }
}

export class GrpcConsentGateway implements ConsentGateway {
  readonly #client: consent.ConsentServiceClient;

  constructor(address: string, credentials: ClientCredentials) {
    this.#client = new consent.ConsentServiceClient(address, credentials);
  }

  async evaluate(
    callerToken: string,
    request: { subjectRef: string; agencyId: string; kind: string; purpose: string },
  ): Promise<ConsentDecision> {
    let response: consent.EvaluateResponse;
    try {
      response = await callUnary(
        this.#client.evaluate.bind(this.#client),
        {
          subjectRef: request.subjectRef,
          recipientAgencyId: request.agencyId,
          recipientKind: request.kind,
          purpose: request.purpose,
        },
        bearerMetadata(callerToken),
        3000,
      );
    } catch (error) {
      throw unavailable('the consent service', error);
    }
    const allowed = new Map<DataCategory, Grant[]>();
    for (const entry of response.allowed) {
      allowed.set(
        entry.category as DataCategory,
        entry.grants.map((g) => ({ consentId: g.consentId, scopeId: g.scopeId })),
      );
    }
    return { allowed, doNotContact: response.doNotContact };
  }

  close(): void {
    this.#client.close();
  }
}
