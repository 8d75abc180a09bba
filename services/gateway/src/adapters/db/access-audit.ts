import { createEnvelope, enqueueEvents, type Topology } from '@passage/events';
import type { MikroORM } from '@passage/platform';

/** Who read what the gateway itself hands out, and whether they were let. */
export interface GatewayAccess {
  readonly actor: { readonly agencyId: string; readonly userId: string; readonly role: string };
  readonly outcome: 'granted' | 'denied';
  /** What was read: `fhir_export` (the FHIR bulk export of referral metadata, ADR 44). */
  readonly record: 'fhir_export';
  /** Why it was refused (`role`); empty when granted. */
  readonly reason: string;
}

export interface AccessAudit {
  /** Recorded before anything is handed out: a read that cannot be recorded does not happen. */
  record(access: GatewayAccess): Promise<void>;
}

/**
 * An access the gateway serves itself, as audit.v1.access in the gateway's outbox, relayed to
 * the AUDIT stream the audit log reads (principle 3): the same event the services write for
 * their reads, with no subject or referral (the export names many and shows no one's data).
 */
export class PgAccessAudit implements AccessAudit {
  readonly #orm: MikroORM;
  readonly #topology: Topology;

  constructor(orm: MikroORM, topology: Topology) {
    this.#orm = orm;
    this.#topology = topology;
  }

  async record(access: GatewayAccess): Promise<void> {
    const envelope = createEnvelope({
      type: 'audit.v1.access',
      actor: { agency: access.actor.agencyId, user: access.actor.userId, role: access.actor.role },
      payload: {
        $case: 'accessRecorded',
        value: {
          referralId: '',
          outcome: access.outcome,
          categories: [],
          consentIds: [],
          purpose: '',
          reason: access.reason,
          record: access.record,
        },
      },
    });
    await this.#orm.em
      .fork()
      .transactional((em) => enqueueEvents(em, 'gateway', [{ subject: this.#topology.audit('access'), envelope }]));
  }
}
