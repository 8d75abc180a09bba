import { createEnvelope, enqueueEvents, type Topology } from '@passage/events';
import type { EntityManager } from '@passage/platform';
import type { CallAudit, TokenAudit } from '../../app/integration-clients.ts';
import type { AdminAudit } from '../../app/people.ts';

/**
 * The gateway's audit events, each written to its outbox in the caller's transaction: ids, codes
 * and times only, never a name, an email, a secret or what a call carried.
 */
export async function enqueueAdminAction(em: EntityManager, topology: Topology, audit: AdminAudit): Promise<void> {
  const envelope = createEnvelope({
    type: 'audit.v1.admin_action',
    occurredAt: audit.at,
    actor: { agency: audit.actor.agencyId, user: audit.actor.userId, role: audit.actor.role },
    payload: {
      $case: 'adminAction',
      value: {
        action: audit.action,
        targetUserId: audit.targetUserId,
        targetAgency: audit.targetAgency,
        roles: [...audit.roles],
        previousRoles: [...(audit.previousRoles ?? [])],
        credential: audit.credential ?? '',
        sessionsEnded: audit.sessionsEnded ?? 0,
        oidcIssuer: audit.oidc?.issuer ?? '',
        oidcSubjectSha256: audit.oidc?.subjectSha256 ?? '',
      },
    },
  });
  await enqueueEvents(em, 'gateway', [{ subject: topology.audit('admin_action'), envelope }]);
}

/** audit.v1.client_token (ADR 45): the actor is the client, as a worker of its agency. */
export async function enqueueClientToken(em: EntityManager, topology: Topology, audit: TokenAudit): Promise<void> {
  const envelope = createEnvelope({
    type: 'audit.v1.client_token',
    occurredAt: audit.at,
    actor: { agency: audit.agencyId, user: audit.clientId, role: 'system' },
    payload: {
      $case: 'clientToken',
      value: {
        outcome: audit.outcome,
        authMethod: audit.authMethod,
        reason: audit.reason,
        expiresAt: audit.expiresAt,
      },
    },
  });
  await enqueueEvents(em, 'gateway', [{ subject: topology.audit('client_token'), envelope }]);
}

/** audit.v1.client_call (ADR 45): one call of the HTTP API by a client. */
export async function enqueueClientCall(em: EntityManager, topology: Topology, audit: CallAudit): Promise<void> {
  const envelope = createEnvelope({
    type: 'audit.v1.client_call',
    occurredAt: audit.at,
    actor: { agency: audit.agencyId, user: audit.clientId, role: 'system' },
    referralId: audit.referralId,
    payload: {
      $case: 'clientCall',
      value: { method: audit.method, route: audit.route, status: audit.status, outcome: audit.outcome },
    },
  });
  await enqueueEvents(em, 'gateway', [{ subject: topology.audit('client_call'), envelope }]);
}
