import type * as grpc from '@grpc/grpc-js';
import { audit, consent, directory, escalation, referrals } from '@passage/contracts';
import { PassageError, callUnary, type ClientCredentials } from '@passage/platform';

export interface ServiceAddresses {
  readonly directory: string;
  readonly consent: string;
  readonly referrals: string;
  readonly audit: string;
  readonly escalation: string;
}

/** One gRPC client per service, shared by every request. */
export class ServiceClients {
  readonly directory: directory.DirectoryServiceClient;
  readonly consent: consent.ConsentServiceClient;
  readonly referrals: referrals.ReferralServiceClient;
  readonly audit: audit.AuditServiceClient;
  readonly escalation: escalation.EscalationServiceClient;
  /** The same clients by the full name of their service, for the HTTP routes the proto maps. */
  readonly byService: ReadonlyMap<string, grpc.Client>;

  /** `credentials`: the gateway's GrpcTransport (mutual TLS; plaintext in development only). */
  constructor(addresses: ServiceAddresses, credentials: ClientCredentials) {
    this.directory = new directory.DirectoryServiceClient(addresses.directory, credentials);
    this.consent = new consent.ConsentServiceClient(addresses.consent, credentials);
    this.referrals = new referrals.ReferralServiceClient(addresses.referrals, credentials);
    this.audit = new audit.AuditServiceClient(addresses.audit, credentials);
    this.escalation = new escalation.EscalationServiceClient(addresses.escalation, credentials);
    this.byService = new Map<string, grpc.Client>([
      ['passage.directory.v1.DirectoryService', this.directory],
      ['passage.consent.v1.ConsentService', this.consent],
      ['passage.referrals.v1.ReferralService', this.referrals],
      ['passage.audit.v1.AuditService', this.audit],
      ['passage.escalation.v1.EscalationService', this.escalation],
    ]);
  }

  close(): void {
    for (const client of this.byService.values()) client.close();
  }
}

/** Whether the directory lists the agency (GetAgency, a public method). */
export async function agencyListed(client: directory.DirectoryServiceClient, agencyId: string): Promise<boolean> {
  try {
    await callUnary(client.getAgency.bind(client), { id: agencyId }, undefined, 5000);
    return true;
  } catch (error) {
    if (error instanceof PassageError && error.code === 'not_found') return false;
    throw error;
  }
}
