import type { TokenIssuer } from '@passage/auth';
import { consent, directory, referrals } from '@passage/contracts';
import { bearerMetadata, callUnary, type ClientCredentials } from '@passage/platform';
import type {
  Candidate,
  ConsentPort,
  DirectoryPort,
  EscalateOutcome,
  Escalation,
  ReferralsPort,
} from '../../app/ports.ts';

/** The escalation service's own identity, for the services it calls: a system caller, never a person. */
export class ServiceIdentity {
  readonly #issuer: TokenIssuer;
  #token: { value: string; until: number } | undefined;

  constructor(issuer: TokenIssuer) {
    this.#issuer = issuer;
  }

  metadata(): ReturnType<typeof bearerMetadata> {
    if (!this.#token || this.#token.until < Date.now()) {
      // Reused for ten minutes of its fifteen: the callee's verification cache then does its work.
      const value = this.#issuer.issue(
        { userId: 'escalation-service', agencyId: 'passage-system', roles: ['system'] },
        900,
      );
      this.#token = { value, until: Date.now() + 600_000 };
    }
    return bearerMetadata(this.#token.value);
  }
}

export class GrpcReferrals implements ReferralsPort {
  readonly #client: referrals.ReferralServiceClient;
  readonly #identity: ServiceIdentity;

  constructor(address: string, credentials: ClientCredentials, identity: ServiceIdentity) {
    this.#client = new referrals.ReferralServiceClient(address, credentials);
    this.#identity = identity;
  }

  async escalateMany(escalations: readonly Escalation[]): Promise<EscalateOutcome[]> {
    const { outcomes, details } = await callUnary(
      this.#client.escalateMany.bind(this.#client),
      {
        escalations: escalations.map((e) => ({
          idempotencyKey: e.idempotencyKey,
          referralId: e.referralId,
          target: e.target,
        })),
      },
      this.#identity.metadata(),
      // A batch is one transaction of a few statements per escalation.
      5000 + 50 * escalations.length,
    );
    return outcomes.map((outcome, i): EscalateOutcome => {
      switch (outcome) {
        case referrals.EscalationOutcome.ESCALATION_OUTCOME_ESCALATED:
          return { outcome: 'escalated' };
        case referrals.EscalationOutcome.ESCALATION_OUTCOME_TARGET_MET:
          return { outcome: 'target_met' };
        case referrals.EscalationOutcome.ESCALATION_OUTCOME_UNKNOWN_REFERRAL:
          return { outcome: 'unknown_referral' };
        case referrals.EscalationOutcome.ESCALATION_OUTCOME_BUSY:
          return { outcome: 'busy' };
        default:
          return { outcome: 'refused', detail: details[i] || `outcome ${outcome}` };
      }
    });
  }

  close(): void {
    this.#client.close();
  }
}

export class GrpcDirectory implements DirectoryPort {
  readonly #client: directory.DirectoryServiceClient;
  /** Suggestions change when the directory does: a burst of escalations asks once a minute. */
  readonly #recent = new Map<string, { at: number; candidates: Promise<Candidate[]> }>();

  constructor(address: string, credentials: ClientCredentials) {
    this.#client = new directory.DirectoryServiceClient(address, credentials);
  }

  candidates(
    needs: readonly string[],
    priority: string,
    near: string,
    excluding: readonly string[],
  ): Promise<Candidate[]> {
    const key = JSON.stringify([needs, priority, near, excluding]);
    const held = this.#recent.get(key);
    if (held && Date.now() - held.at < 60_000) return held.candidates;
    const candidates = this.#ask(needs, priority, near, excluding);
    this.#recent.set(key, { at: Date.now(), candidates });
    candidates.catch(() => this.#recent.delete(key));
    if (this.#recent.size > 1000) this.#recent.delete(this.#recent.keys().next().value!);
    return candidates;
  }

  /**
   * Events carry no address, so the person's place is taken to be where the receiving agency
   * works: its first municipality. Without one there are no suggestions.
   */
  async #ask(
    needs: readonly string[],
    priority: string,
    near: string,
    excluding: readonly string[],
  ): Promise<Candidate[]> {
    const { agency } = await callUnary(this.#client.getAgency.bind(this.#client), { id: near }, undefined, 3000);
    const municipality = agency?.coverage?.municipalities[0];
    if (!municipality) return [];
    const response = await callUnary(
      this.#client.match.bind(this.#client),
      {
        needs: [...needs],
        municipality,
        fsa: '',
        language: '',
        priority: priority === 'urgent' ? directory.Priority.PRIORITY_URGENT : directory.Priority.PRIORITY_STANDARD,
        at: undefined,
      },
      undefined,
      3000,
    );
    return response.candidates
      .filter((c) => c.agency && !excluding.includes(c.agency.id))
      .slice(0, 3)
      .map((c) => ({
        agencyId: c.agency!.id,
        nameEn: c.agency!.nameEn,
        nameFr: c.agency!.nameFr,
        reasons: [...c.reasons],
      }));
  }

  close(): void {
    this.#client.close();
  }
}

export class GrpcConsent implements ConsentPort {
  readonly #client: consent.ConsentServiceClient;
  readonly #identity: ServiceIdentity;

  constructor(address: string, credentials: ClientCredentials, identity: ServiceIdentity) {
    this.#client = new consent.ConsentServiceClient(address, credentials);
    this.#identity = identity;
  }

  async covers(subjectRef: string, agencyId: string): Promise<boolean> {
    const response = await callUnary(
      this.#client.evaluate.bind(this.#client),
      { subjectRef, recipientAgencyId: agencyId, recipientKind: '', purpose: 'referral' },
      this.#identity.metadata(),
      3000,
    );
    return response.allowed.length > 0;
  }

  close(): void {
    this.#client.close();
  }
}
