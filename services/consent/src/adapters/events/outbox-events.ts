import { createEnvelope, enqueueEvents, type ConsentEvent, type EventPayload, type Topology } from '@passage/events';
import type { EntityManager } from '@passage/platform';
import type { Actor, ConsentRecord, ConsentScope } from '../../domain/consent.ts';
import type { ConsentAccess, ConsentEvents, PoliceAccess } from '../../app/ports.ts';
import { consentSchema } from '../db/consent-repository.ts';

/** Who a scope names and for what: nothing about the person. */
function scopeSummary(s: ConsentScope) {
  return {
    scopeId: s.id,
    recipientAgencyIds: [...s.recipientAgencyIds],
    recipientKinds: [...s.recipientKinds],
    purposes: [...s.purposes],
    categories: [...s.categories],
    doNotContact: s.doNotContact,
  };
}

/** consent.v1.* facts: ids, categories, agencies and times; never anything about the person. */
export class OutboxConsentEvents implements ConsentEvents {
  readonly #em: EntityManager;
  readonly #topology: Topology;

  constructor(em: EntityManager, topology: Topology) {
    this.#em = em;
    this.#topology = topology;
  }

  /** Only the events declared in @passage/events (consentEvents): its NATS user may publish no other. */
  async #publish(
    event: ConsentEvent,
    subjectRef: string,
    consentId: string,
    actor: Actor,
    payload: EventPayload,
  ): Promise<void> {
    const envelope = createEnvelope({
      type: `consent.v1.${event}`,
      actor: { agency: actor.agencyId, user: actor.userId, role: actor.role },
      subjectRef,
      consentId,
      payload,
    });
    await enqueueEvents(this.#em, consentSchema, [{ subject: this.#topology.consent(event), envelope }]);
  }

  granted(record: ConsentRecord, actor: Actor): Promise<void> {
    return this.#publish('granted', record.subjectRef, record.id, actor, {
      $case: 'consentGranted',
      value: {
        consentId: record.id,
        expiresAt: record.expiresAt,
        scopes: record.scopes.map(scopeSummary),
        method: record.method,
      },
    });
  }

  amended(record: ConsentRecord, version: number, added: readonly ConsentScope[], actor: Actor): Promise<void> {
    return this.#publish('amended', record.subjectRef, record.id, actor, {
      $case: 'consentAmended',
      value: {
        consentId: record.id,
        receiptVersion: version,
        addedScopes: added.map(scopeSummary),
        amendedAt: added[0]?.addedAt ?? new Date(),
      },
    });
  }

  revoked(
    record: ConsentRecord,
    scopeIds: readonly string[],
    whole: boolean,
    reason: string,
    actor: Actor,
  ): Promise<void> {
    return this.#publish('revoked', record.subjectRef, record.id, actor, {
      $case: 'consentRevoked',
      value: { consentId: record.id, scopeIds: [...scopeIds], all: whole, reason },
    });
  }

  expired(record: ConsentRecord): Promise<void> {
    return this.#publish(
      'expired',
      record.subjectRef,
      record.id,
      { agencyId: '', userId: 'consent-expiry', role: 'service' },
      {
        $case: 'consentExpired',
        value: { consentId: record.id, expiredAt: record.expiresAt },
      },
    );
  }

  policeAccess(record: ConsentRecord, access: PoliceAccess, actor: Actor): Promise<void> {
    return this.#publish('police_access', record.subjectRef, record.id, actor, {
      $case: 'policeAccess',
      value: {
        consentId: record.id,
        scopeId: access.scopeId,
        state: access.state,
        policeAgencyIds: [...access.policeAgencyIds],
        allPolice: access.allPolice,
        categories: [...access.categories],
        recordedByAgency: record.capturedBy.agencyId,
        recordedAt: record.grantedAt,
      },
    });
  }

  async access(access: ConsentAccess): Promise<void> {
    const envelope = createEnvelope({
      type: 'audit.v1.access',
      actor: { agency: access.actor.agencyId, user: access.actor.userId, role: access.actor.role },
      subjectRef: access.subjectRef,
      consentId: access.consentIds[0] ?? '',
      allowedCategories: [...access.categories],
      payload: {
        $case: 'accessRecorded',
        value: {
          referralId: '',
          outcome: access.outcome,
          categories: [...access.categories],
          consentIds: [...access.consentIds],
          purpose: '',
          reason: access.reason,
          record: access.record,
        },
      },
    });
    await enqueueEvents(this.#em, consentSchema, [{ subject: this.#topology.audit('access'), envelope }]);
  }

  subjectErased(subjectRef: string, actor: Actor, at: Date): Promise<void> {
    return this.#publish('subject_erased', subjectRef, '', actor, { $case: 'subjectErased', value: { erasedAt: at } });
  }
}
