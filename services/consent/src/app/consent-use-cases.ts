import { createHash, randomUUID } from 'node:crypto';
import {
  confirmingKinds,
  evaluate,
  isPurpose,
  letsPoliceRead,
  type Evaluation,
  type RecipientKind,
} from '@passage/consent-policy';
import { requireRole, workerRoles, type Caller, type Role } from '@passage/auth';
import { shredded } from '@passage/crypto';
import { uuidv7 } from '@passage/events';
import { PassageError } from '@passage/errors';
import { workSpan } from '@passage/platform';
import { amendmentRefusal, asIssued, planAmendment, type RawAmendment } from '../domain/amendment.ts';
import {
  consentFromJson,
  receiptVersion,
  type Actor,
  type Change,
  type ConsentRecord,
  type ConsentScope,
} from '../domain/consent.ts';
import { checkIdempotencyKey, erasedRequestHash } from '../domain/idempotency.ts';
import { kantaraReceipt, receiptText, type KantaraReceipt, type ReceiptLanguage } from '../domain/receipt.ts';
import { planRevocation, withdrawalRights } from '../domain/revocation.ts';
import { checkGrant, type RawGrant } from '../domain/validate-grant.ts';
import type { ConsentAccess, ConsentStorage, ConsentTransaction, PoliceAccess, ReceiptSigner } from './ports.ts';

/**
 * The roles that capture consent from a person (and may record its withdrawal): the front-line
 * workers, and an agency's own system acting for them (ADR 45).
 */
export const captureRoles: readonly Role[] = workerRoles;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const reasonCode = /^[a-z][a-z0-9_]{0,63}$/;

export interface IssuedReceipt {
  readonly language: ReceiptLanguage;
  readonly text: string;
  readonly json: KantaraReceipt;
  readonly jws: string;
  readonly signingKeyId: string;
  readonly signingPublicKey: string;
  /** Which receipt version this is, and the consent's latest. */
  readonly version: number;
  readonly latestVersion: number;
}

export interface AmendResult {
  readonly consent: ConsentRecord;
  readonly addedScopeIds: readonly string[];
}

export interface RevokeResult {
  readonly consent: ConsentRecord;
  readonly revokedScopeIds: readonly string[];
  readonly alreadyRevoked: boolean;
}

export interface EvaluationResult extends Evaluation {
  readonly recipientKind: string;
  readonly evaluatedAt: Date;
}

export interface History {
  readonly consents: readonly ConsentRecord[];
  readonly changes: readonly Change[];
  readonly erased: boolean;
  /** Capture notes by consent id: only for the agency that recorded them (personal data). */
  readonly notes: ReadonlyMap<string, string>;
}

function actorOf(caller: Caller): Actor {
  return { agencyId: caller.agencyId, userId: caller.userId, role: caller.roles[0] ?? '' };
}

function invalid(field: string, description: string): PassageError {
  return PassageError.invalid([{ field, description }]);
}

/** How the consent report and the oversight feed are told of a scope that lets police read. */
function policeAccessOf(
  scope: ConsentScope,
  state: PoliceAccess['state'],
  kindOf: (agencyId: string) => RecipientKind | undefined,
): PoliceAccess {
  return {
    scopeId: scope.id,
    state,
    policeAgencyIds: scope.recipientAgencyIds.filter((id) => kindOf(id) === 'police'),
    allPolice: scope.recipientKinds.includes('police'),
    categories: scope.categories,
  };
}

/** Thrown inside a command's transaction when its idempotency key was taken meanwhile: rolls the work back. */
class KeyTaken extends Error {}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

function checkSubjectRef(subjectRef: string): void {
  if (!uuidPattern.test(subjectRef)) throw invalid('subject_ref', 'a subject reference is a UUID');
}

/** The consent service's use cases: one method per gRPC call. */
export class ConsentUseCases {
  readonly #storage: ConsentStorage;
  readonly #signer: ReceiptSigner;
  readonly #now: () => Date;

  constructor(storage: ConsentStorage, signer: ReceiptSigner, now: () => Date = () => new Date()) {
    this.#storage = storage;
    this.#signer = signer;
    this.#now = now;
  }

  async grant(
    caller: Caller,
    raw: RawGrant,
    idempotencyKey: string,
  ): Promise<{ consent: ConsentRecord; receipt: IssuedReceipt }> {
    requireRole(caller, captureRoles, 'recording consent');
    const now = this.#now();
    const checked = checkGrant(raw, now);
    const violations = [...checkIdempotencyKey(idempotencyKey), ...(checked.ok ? [] : checked.violations)];
    if (!checked.ok || violations.length > 0) throw PassageError.invalid(violations);
    const input = checked.value;
    const request = { ...input, expiresAt: input.expiresAt.toISOString() };
    const earlier = await this.#replay(caller, idempotencyKey, 'grant', request, consentFromJson);
    if (earlier) return { consent: earlier, receipt: await this.#grantReceipt(earlier, input.receiptName) };
    // A scope names agencies the directory lists, never one it does not know: an unknown
    // agency's kind would be anybody's guess (and the police rule depends on the kind).
    const kinds = await this.#storage
      .reader()
      .agencies.kinds([caller.agencyId, ...input.scopes.flatMap((s) => s.recipientAgencyIds)]);
    const unknown = raw.scopes.flatMap((scope, i) =>
      scope.recipientAgencyIds.flatMap((id, j) =>
        kinds.has(id)
          ? []
          : [
              {
                field: `scopes[${i}].recipient_agency_ids[${j}]`,
                description: `the directory lists no agency "${id}"`,
              },
            ],
      ),
    );
    if (unknown.length > 0) throw PassageError.invalid(unknown);
    const kindOf = (agencyId: string) => kinds.get(agencyId);
    // Police recording a scope that lets police read only propose it: it allows nothing
    // until a worker of a non-police agency confirms it with the person (ADR 22). An
    // agency the directory does not list counts as police here.
    const recorderKind = kinds.get(caller.agencyId);
    const proposes = recorderKind === undefined || recorderKind === 'police';

    const consent = await this.#once(caller, idempotencyKey, 'grant', request, consentFromJson, async (tx) => {
      const subjectRef = input.subjectRef ?? randomUUID();
      // One writer per subject at a time, so a grant cannot slip past a concurrent erasure.
      await tx.consents.lockSubject(subjectRef);
      if (input.subjectRef) {
        if (await tx.consents.erasure(subjectRef)) {
          throw new PassageError(
            'failed_precondition',
            `subject ${subjectRef} was erased; record consent as a new person`,
          );
        }
        // Knowing a subject reference (say, from a referral received) is no licence to add
        // consent naming yourself: only an agency that recorded this person's consent may.
        // A subject recorded elsewhere answers as an unknown one does: no telling what exists.
        const earlier = await tx.consents.bySubject(subjectRef);
        if (!earlier.some((c) => c.capturedBy.agencyId === caller.agencyId)) {
          throw new PassageError(
            'not_found',
            `no subject ${subjectRef} recorded by your agency; leave subject_ref empty for a new person`,
          );
        }
      }
      const record: ConsentRecord = {
        id: uuidv7(),
        subjectRef,
        capturedBy: actorOf(caller),
        method: input.method,
        interpreterLanguage: input.interpreterLanguage,
        language: input.language,
        grantedAt: now,
        expiresAt: input.expiresAt,
        scopes: input.scopes.map((scope): ConsentScope => {
          const id = uuidv7();
          return proposes && letsPoliceRead(scope, kindOf)
            ? { id, ...scope, proposedAt: now, proposedBy: actorOf(caller) }
            : { id, ...scope };
        }),
      };
      await tx.consents.insert(record, {
        receiptName: input.receiptName
          ? await tx.vault.encrypt(subjectRef, `consent:${record.id}:receipt_name`, input.receiptName)
          : undefined,
        notes: input.notes ? await tx.vault.encrypt(subjectRef, `consent:${record.id}:notes`, input.notes) : undefined,
      });
      await tx.consents.appendChange(subjectRef, {
        change: 'granted',
        consentId: record.id,
        scopeIds: record.scopes.map((s) => s.id),
        actor: record.capturedBy,
        at: now,
        reason: '',
      });
      await tx.events.granted(record, record.capturedBy);
      for (const scope of record.scopes.filter((s) => letsPoliceRead(s, kindOf))) {
        const access = policeAccessOf(scope, scope.proposedAt ? 'proposed' : 'granted', kindOf);
        await tx.events.policeAccess(record, access, record.capturedBy);
      }
      return { value: record, subjectRef };
    });
    return { consent, receipt: await this.#grantReceipt(consent, input.receiptName) };
  }

  /** The receipt a Grant answers with, in the language of the conversation, with the name the person gave. */
  #grantReceipt(consent: ConsentRecord, receiptName: string): Promise<IssuedReceipt> {
    const language: ReceiptLanguage = consent.language.startsWith('fr') ? 'fr' : 'en';
    return this.#issueReceipt(this.#storage.reader(), consent, language, receiptName);
  }

  async revoke(
    caller: Caller,
    request: { idempotencyKey: string; consentId: string; scopeIds: readonly string[]; all: boolean; reason: string },
  ): Promise<RevokeResult> {
    requireRole(caller, [...captureRoles, 'admin'], 'recording a withdrawal of consent');
    const violations = checkIdempotencyKey(request.idempotencyKey);
    if (!uuidPattern.test(request.consentId))
      violations.push({ field: 'consent_id', description: 'a consent id is a UUID' });
    if (!reasonCode.test(request.reason)) {
      violations.push({
        field: 'reason',
        description: 'give a short reason code such as "person_withdrew" or "recorded_in_error"',
      });
    }
    if (violations.length > 0) throw PassageError.invalid(violations);
    const { idempotencyKey, ...asked } = request;
    const revive = (json: unknown): RevokeResult => {
      const result = json as RevokeResult;
      return { ...result, consent: consentFromJson(result.consent) };
    };
    const earlier = await this.#replay(caller, idempotencyKey, 'revoke', asked, revive);
    if (earlier) return earlier;
    return this.#once(caller, idempotencyKey, 'revoke', asked, revive, async (tx) => {
      const result = await this.#revoke(tx, caller, request);
      return { value: result, subjectRef: result.consent.subjectRef };
    });
  }

  async #revoke(
    tx: ConsentTransaction,
    caller: Caller,
    request: { consentId: string; scopeIds: readonly string[]; all: boolean; reason: string },
  ): Promise<RevokeResult> {
    const consent = await tx.consents.get(request.consentId, true);
    if (!consent) throw new PassageError('not_found', `no consent ${request.consentId}`);
    const kind = (await tx.agencies.kinds([caller.agencyId])).get(caller.agencyId);
    const rights = withdrawalRights(consent, {
      agencyId: caller.agencyId,
      kind,
      admin: caller.roles.includes('admin'),
    });
    if (rights.who === 'none') {
      throw new PassageError(
        'permission_denied',
        'only the agency that recorded this consent, or an agency it names, can record the person’s withdrawal',
      );
    }
    const recorder = rights.who === 'recorder';
    const ownScopes = rights.ownScopeIds;
    // An agency the consent names is shown only its own scopes: it names those, or records
    // the person's withdrawal of the whole consent (all), as the receipt promises (ADR 36).
    if (!recorder && request.scopeIds.some((id) => !ownScopes.includes(id))) {
      throw new PassageError(
        'permission_denied',
        'you may withdraw only the scopes that name your agency, or the whole consent (all) when the person withdraws it',
      );
    }
    const plan = planRevocation(consent, request);
    if (!plan.ok) throw PassageError.invalid(plan.violations);
    if (plan.value.scopeIds.length === 0) return { consent, revokedScopeIds: [], alreadyRevoked: true };

    const now = this.#now();
    await tx.consents.saveRevocation(consent.id, plan.value.scopeIds, plan.value.whole, now);
    const actor = actorOf(caller);
    await tx.consents.appendChange(consent.subjectRef, {
      change: plan.value.whole ? 'revoked' : 'scope_revoked',
      consentId: consent.id,
      scopeIds: plan.value.scopeIds,
      actor,
      at: now,
      reason: request.reason,
    });
    const updated = (await tx.consents.get(consent.id))!;
    await tx.events.revoked(updated, plan.value.scopeIds, plan.value.whole, request.reason, actor);
    return { consent: updated, revokedScopeIds: plan.value.scopeIds, alreadyRevoked: false };
  }

  /**
   * Adds scopes to an active consent, with the person (ADR 36): only a worker of the agency
   * that recorded it; a new receipt version, the earlier ones kept (`receipt(…, version)`).
   * Answers with the new receipt (with the name the person gave: its issue is recorded as a read).
   */
  async amend(
    caller: Caller,
    request: { idempotencyKey: string; consentId: string; language: string } & RawAmendment,
  ): Promise<AmendResult & { receipt: IssuedReceipt }> {
    requireRole(caller, captureRoles, 'amending consent with the person');
    const violations = checkIdempotencyKey(request.idempotencyKey);
    if (!uuidPattern.test(request.consentId))
      violations.push({ field: 'consent_id', description: 'a consent id is a UUID' });
    if (request.language && request.language !== 'en' && request.language !== 'fr')
      violations.push({ field: 'language', description: 'receipts are in "en" or "fr"' });
    if (violations.length > 0) throw PassageError.invalid(violations);
    const { idempotencyKey, language, ...asked } = request;
    const revive = (json: unknown): AmendResult => {
      const result = json as AmendResult;
      return { ...result, consent: consentFromJson(result.consent) };
    };
    const result =
      (await this.#replay(caller, idempotencyKey, 'amend', asked, revive)) ??
      (await this.#once(caller, idempotencyKey, 'amend', asked, revive, async (tx) => {
        const found = await tx.consents.get(request.consentId);
        // Another agency's consent answers as a made-up id does, as Receipt and History do.
        if (!found || found.capturedBy.agencyId !== caller.agencyId) {
          throw new PassageError(
            'not_found',
            `no consent ${request.consentId} recorded by your agency; only the agency that recorded a consent amends it`,
          );
        }
        // The subject's lock first, as Grant and EraseSubject take it, then the row.
        await tx.consents.lockSubject(found.subjectRef);
        const consent = (await tx.consents.get(request.consentId, true))!;
        if (await tx.consents.erasure(consent.subjectRef)) {
          throw new PassageError('failed_precondition', 'this person was erased; record a new consent with the person');
        }
        const now = this.#now();
        const refusal = amendmentRefusal(consent, now);
        if (refusal) throw new PassageError('failed_precondition', refusal);
        const named = request.scopes.flatMap((s) => s.recipientAgencyIds);
        const kinds = await tx.agencies.kinds([caller.agencyId, ...named]);
        const unknown = request.scopes.flatMap((scope, i) =>
          scope.recipientAgencyIds.flatMap((id, j) =>
            kinds.has(id)
              ? []
              : [
                  {
                    field: `scopes[${i}].recipient_agency_ids[${j}]`,
                    description: `the directory lists no agency "${id}"`,
                  },
                ],
          ),
        );
        if (unknown.length > 0) throw PassageError.invalid(unknown);
        const kindOf = (agencyId: string) => kinds.get(agencyId);
        const recorderKind = kinds.get(caller.agencyId);
        const actor = actorOf(caller);
        const plan = planAmendment(consent, request, {
          now,
          actor,
          // Police recording a scope that lets police read only propose it (ADR 22).
          proposes: recorderKind === undefined || recorderKind === 'police',
          kindOf,
          newId: uuidv7,
        });
        if (!plan.ok) throw PassageError.invalid(plan.violations);
        const { version, scopes } = plan.value;
        await tx.consents.addScopes(consent.id, scopes);
        await tx.consents.appendChange(consent.subjectRef, {
          change: 'amended',
          consentId: consent.id,
          scopeIds: scopes.map((s) => s.id),
          actor,
          at: now,
          reason: '',
        });
        const updated = (await tx.consents.get(consent.id))!;
        await tx.events.amended(updated, version, scopes, actor);
        for (const scope of scopes.filter((s) => letsPoliceRead(s, kindOf))) {
          await tx.events.policeAccess(
            updated,
            policeAccessOf(scope, scope.proposedAt ? 'proposed' : 'granted', kindOf),
            actor,
          );
        }
        return { value: { consent: updated, addedScopeIds: scopes.map((s) => s.id) }, subjectRef: consent.subjectRef };
      }));
    const receiptLanguage = language || (result.consent.language.startsWith('fr') ? 'fr' : 'en');
    const receipt = await this.receipt(
      caller,
      result.consent.id,
      receiptLanguage,
      false,
      receiptVersion(result.consent),
    );
    return { ...result, receipt };
  }

  /**
   * Confirms, with the person, a scope that lets police read which a police agency recorded
   * (ADR 22): only a worker of a crisis line, victim services or a coalition may; police never.
   */
  async confirmScope(
    caller: Caller,
    request: { idempotencyKey: string; consentId: string; scopeId: string },
  ): Promise<{ consent: ConsentRecord; alreadyConfirmed: boolean }> {
    requireRole(caller, captureRoles, 'confirming a scope with the person');
    const violations = checkIdempotencyKey(request.idempotencyKey);
    if (!uuidPattern.test(request.consentId))
      violations.push({ field: 'consent_id', description: 'a consent id is a UUID' });
    if (!uuidPattern.test(request.scopeId)) violations.push({ field: 'scope_id', description: 'a scope id is a UUID' });
    if (violations.length > 0) throw PassageError.invalid(violations);
    const { idempotencyKey, ...asked } = request;
    const revive = (json: unknown) => {
      const result = json as { consent: ConsentRecord; alreadyConfirmed: boolean };
      return { ...result, consent: consentFromJson(result.consent) };
    };
    const earlier = await this.#replay(caller, idempotencyKey, 'confirm_scope', asked, revive);
    if (earlier) return earlier;
    return this.#once(caller, idempotencyKey, 'confirm_scope', asked, revive, async (tx) => {
      const callerKind = (await tx.agencies.kinds([caller.agencyId])).get(caller.agencyId);
      if (callerKind === 'police') {
        throw new PassageError(
          'permission_denied',
          'police cannot confirm a scope that lets police read; a worker of a crisis line, victim services or a coalition confirms it with the person',
        );
      }
      if (!callerKind || !confirmingKinds.includes(callerKind)) {
        throw new PassageError(
          'permission_denied',
          'only a worker of a crisis line, victim services or a coalition confirms such a scope with the person',
        );
      }
      const consent = await tx.consents.get(request.consentId, true);
      if (!consent) throw new PassageError('not_found', `no consent ${request.consentId}`);
      const scope = consent.scopes.find((s) => s.id === request.scopeId);
      if (!scope) throw invalid('scope_id', `consent ${consent.id} has no scope ${request.scopeId}`);
      if (!scope.proposedAt) {
        throw new PassageError(
          'failed_precondition',
          'this scope was not proposed by police; it needs no confirmation',
        );
      }
      if (scope.confirmedAt) return { value: { consent, alreadyConfirmed: true }, subjectRef: consent.subjectRef };
      const now = this.#now();
      if (consent.revokedAt || scope.revokedAt || consent.expiresAt.getTime() <= now.getTime()) {
        throw new PassageError(
          'failed_precondition',
          'this scope has ended (withdrawn, erased or expired); record a new consent with the person',
        );
      }
      const actor = actorOf(caller);
      await tx.consents.confirmScope(consent.id, scope.id, actor, now);
      await tx.consents.appendChange(consent.subjectRef, {
        change: 'scope_confirmed',
        consentId: consent.id,
        scopeIds: [scope.id],
        actor,
        at: now,
        reason: '',
      });
      const updated = (await tx.consents.get(consent.id))!;
      const kinds = await tx.agencies.kinds(scope.recipientAgencyIds);
      const confirmed = updated.scopes.find((s) => s.id === scope.id)!;
      await tx.events.policeAccess(
        updated,
        policeAccessOf(confirmed, 'confirmed', (id) => kinds.get(id)),
        actor,
      );
      return { value: { consent: updated, alreadyConfirmed: false }, subjectRef: consent.subjectRef };
    });
  }

  /**
   * Read-time evaluation, on every read, straight from the database: no cache can serve an
   * allow after a revocation has committed. The recipient's kind comes from the directory;
   * an agency the directory has not listed is refused, whatever kind the caller claims.
   */
  async evaluate(
    caller: Caller,
    request: { subjectRef: string; agencyId: string; kind: string; purpose: string },
  ): Promise<EvaluationResult> {
    checkSubjectRef(request.subjectRef);
    if (!slug.test(request.agencyId)) throw invalid('recipient_agency_id', 'an agency id such as "london-coalition"');
    if (!isPurpose(request.purpose)) {
      throw invalid(
        'purpose',
        `unknown purpose "${request.purpose}"; one of referral, safety_planning, investigation, statistics`,
      );
    }
    const { consents, kind: knownKind } = await this.#storage.evaluation.inputs(request.subjectRef, request.agencyId);
    // Which agencies a person consented to is itself sensitive: an agency may ask about
    // itself, or about people whose consent it recorded (to send a referral); auditors
    // and admins may ask anything, and so may a Passage service acting on its own (the
    // escalation service asks for the crisis line). About an unknown subject there is nothing to learn.
    const asksAboutItself = caller.agencyId === request.agencyId;
    const recordedHere = consents.some((c) => c.capturedBy.agencyId === caller.agencyId);
    const oversight = caller.roles.some((role) => role === 'auditor' || role === 'admin' || role === 'service');
    // Another agency's subject answers exactly as an unknown subject does: nothing allowed.
    const visible = asksAboutItself || recordedHere || oversight ? consents : [];
    // The kind comes from the directory alone: whatever kind a caller claims for an agency
    // the directory has not listed, the agency is refused, never believed.
    const kind = knownKind;
    if (!kind) throw invalid('recipient_agency_id', `the directory lists no agency "${request.agencyId}"`);
    const evaluatedAt = this.#now();
    return {
      ...evaluate(visible, { agencyId: request.agencyId, kind }, request.purpose, evaluatedAt),
      recipientKind: kind,
      evaluatedAt,
    };
  }

  /**
   * A subject's consents and changes. Auditors and admins see every consent, without the
   * capture notes; a worker of an agency that recorded consent sees its own, with their
   * notes (personal data, category "situation"). Every read, a refused one too, is
   * recorded as an access (ADR 22).
   */
  async history(caller: Caller, subjectRef: string): Promise<History> {
    checkSubjectRef(subjectRef);
    const reader = this.#storage.reader();
    const [consents, changes, erasure] = await Promise.all([
      reader.consents.bySubject(subjectRef),
      reader.consents.changes(subjectRef),
      reader.consents.erasure(subjectRef),
    ]);
    const actor = actorOf(caller);
    const recordAccess = (outcome: 'granted' | 'denied', consentIds: string[], notes: boolean, reason = '') =>
      this.#recordAccess({
        actor,
        subjectRef,
        consentIds,
        record: 'consent_history',
        outcome,
        categories: notes ? ['situation'] : [],
        reason,
      });
    if (caller.roles.includes('auditor') || caller.roles.includes('admin')) {
      await recordAccess(
        'granted',
        consents.map((c) => c.id),
        false,
      );
      return { consents, changes, erased: Boolean(erasure), notes: new Map() };
    }
    const own = consents.filter((c) => c.capturedBy.agencyId === caller.agencyId);
    if (!captureRoles.some((role) => caller.roles.includes(role)) || own.length === 0) {
      await recordAccess('denied', [], false, own.length === 0 ? 'not_recording_agency' : 'role');
      requireRole(caller, captureRoles, 'reading consent history');
      throw new PassageError('permission_denied', 'your agency recorded no consent for this subject');
    }
    const ids = new Set(own.map((c) => c.id));
    const notes = new Map<string, string>();
    for (const consent of own) {
      const sealed = (await reader.consents.sealedFields(consent.id)).notes;
      if (!sealed) continue;
      const opened = await reader.vault.decrypt(subjectRef, `consent:${consent.id}:notes`, sealed);
      if (opened !== shredded) notes.set(consent.id, opened);
    }
    // Recorded before anything is returned: a read that cannot be recorded fails.
    await recordAccess('granted', [...ids], notes.size > 0);
    return {
      consents: own,
      changes: changes.filter((c) => ids.has(c.consentId) || c.change === 'subject_erased'),
      erased: Boolean(erasure),
      notes,
    };
  }

  /**
   * The person's receipt, with the name they gave for it: for a worker (a role that
   * captures consent) of the agency that recorded the consent, and nobody else — not an
   * admin, not an agency the consent names (ADR 22). Every issue, a refused one too, is
   * recorded as an access to the subject's identity.
   */
  async receipt(
    caller: Caller,
    consentId: string,
    asked: string,
    discreet = false,
    version = 0,
  ): Promise<IssuedReceipt> {
    if (!uuidPattern.test(consentId)) throw invalid('consent_id', 'a consent id is a UUID');
    if (!Number.isInteger(version) || version < 0)
      throw invalid('version', 'a receipt version: 1, 2…, or 0 for the latest');
    // English unless French is asked for.
    const language = asked || 'en';
    if (language !== 'en' && language !== 'fr') throw invalid('language', 'receipts are in "en" or "fr"');
    const reader = this.#storage.reader();
    const consent = await reader.consents.get(consentId);
    const worker = captureRoles.some((role) => caller.roles.includes(role));
    const notIssued = (): PassageError =>
      worker
        ? // Another agency's consent answers as a made-up id does: no telling what exists.
          new PassageError('not_found', `no consent ${consentId} recorded by your agency`)
        : new PassageError(
            'permission_denied',
            'only a worker of the agency that recorded a consent issues its receipt',
          );
    if (!consent) throw notIssued();
    const access = { actor: actorOf(caller), subjectRef: consent.subjectRef, consentIds: [consent.id] } as const;
    if (consent.capturedBy.agencyId !== caller.agencyId || !worker) {
      await this.#recordAccess({
        ...access,
        record: 'consent_receipt',
        outcome: 'denied',
        categories: ['identity'],
        reason: worker ? 'not_recording_agency' : 'role',
      });
      throw notIssued();
    }
    const latest = receiptVersion(consent);
    if (version > latest) {
      throw invalid('version', `this consent's receipt has ${latest} version${latest === 1 ? '' : 's'}`);
    }
    const sealed = await reader.consents.sealedFields(consentId);
    const opened = sealed.receiptName
      ? await reader.vault.decrypt(consent.subjectRef, `consent:${consentId}:receipt_name`, sealed.receiptName)
      : '';
    const name = opened === shredded ? '' : opened;
    // Recorded before anything is returned: a read that cannot be recorded fails.
    await this.#recordAccess({
      ...access,
      record: 'consent_receipt',
      outcome: 'granted',
      categories: name ? ['identity'] : [],
      reason: '',
    });
    // A version asked for is the receipt as it was issued then; none asked, the consent as it stands.
    return this.#issueReceipt(
      reader,
      version > 0 ? asIssued(consent, version) : consent,
      language,
      name,
      discreet,
      latest,
    );
  }

  #recordAccess(access: ConsentAccess): Promise<void> {
    return this.#storage.transaction((tx) => tx.events.access(access));
  }

  async eraseSubject(
    caller: Caller,
    subjectRef: string,
    reason: string,
    idempotencyKey: string,
  ): Promise<{ alreadyErased: boolean }> {
    requireRole(caller, ['admin'], 'erasing a subject');
    const violations = checkIdempotencyKey(idempotencyKey);
    if (!uuidPattern.test(subjectRef))
      violations.push({ field: 'subject_ref', description: 'a subject reference is a UUID' });
    if (!reasonCode.test(reason))
      violations.push({ field: 'reason', description: 'give a short reason code such as "person_requested_erasure"' });
    if (violations.length > 0) throw PassageError.invalid(violations);
    const revive = (json: unknown) => json as { alreadyErased: boolean };
    const request = { subjectRef, reason };
    const earlier = await this.#replay(caller, idempotencyKey, 'erase_subject', request, revive);
    if (earlier) return earlier;
    return this.#once(caller, idempotencyKey, 'erase_subject', request, revive, async (tx) => {
      await tx.consents.lockSubject(subjectRef);
      if (await tx.consents.erasure(subjectRef)) return { value: { alreadyErased: true }, subjectRef };
      const known = (await tx.consents.bySubject(subjectRef)).length > 0;
      if (!known) throw new PassageError('not_found', `no subject ${subjectRef}`);
      const now = this.#now();
      const actor = actorOf(caller);
      await tx.vault.shred(subjectRef);
      await tx.consents.closeSubject(subjectRef, now);
      await tx.consents.recordErasure(subjectRef, actor, reason, now);
      await tx.consents.appendChange(subjectRef, {
        change: 'subject_erased',
        consentId: '',
        scopeIds: [],
        actor,
        at: now,
        reason,
      });
      await tx.events.subjectErased(subjectRef, actor, now);
      // Earlier commands' request hashes cover the name and notes: they go with the keys.
      await tx.idempotency.forgetRequests(subjectRef);
      return { value: { alreadyErased: false }, subjectRef };
    });
  }

  /** The first answer to an earlier request under this key; a different request under it is refused. */
  async #replay<T>(
    caller: Caller,
    key: string,
    command: string,
    request: unknown,
    revive: (json: unknown) => T,
  ): Promise<T | undefined> {
    const earlier = await this.#storage.reader().idempotency.find(caller.agencyId, key);
    if (!earlier) return undefined;
    if (earlier.requestHash === erasedRequestHash) {
      throw new PassageError('failed_precondition', 'the person this request was about has been erased since');
    }
    if (earlier.command !== command || earlier.requestHash !== hashOf({ command, request })) {
      throw invalid('idempotency_key', 'already used for a different request; use a new key');
    }
    return revive(earlier.result);
  }

  /**
   * Runs a command once per (agency, key): its result is saved under the key in the same
   * transaction; a concurrent retry that finds the key taken rolls back and answers with
   * the first result.
   */
  async #once<T>(
    caller: Caller,
    key: string,
    command: string,
    request: unknown,
    revive: (json: unknown) => T,
    work: (tx: ConsentTransaction) => Promise<{ value: T; subjectRef: string }>,
  ): Promise<T> {
    try {
      return await this.#storage.transaction(async (tx) => {
        const { value, subjectRef } = await work(tx);
        const record = { command, requestHash: hashOf({ command, request }), result: value };
        if (!(await tx.idempotency.save(caller.agencyId, key, subjectRef, record))) throw new KeyTaken();
        return value;
      });
    } catch (error) {
      if (!(error instanceof KeyTaken)) throw error;
      const first = await this.#replay(caller, key, command, request, revive);
      if (first) return first;
      throw new PassageError('aborted', 'the same request is being processed; retry to get its result');
    }
  }

  /** Announces consents whose expiry has passed; returns how many. Safe with several instances. */
  async sweepExpired(limit = 100): Promise<number> {
    return this.#storage.transaction(async (tx) => {
      const now = this.#now();
      const expired = await tx.consents.claimExpired(now, limit);
      if (expired.length === 0) return 0;
      // Called untraced by the sweeper: only a sweep that found consents makes a span (ADR 32).
      return workSpan(
        'consent expiry sweep',
        { attributes: { 'passage.consents.expired': expired.length } },
        async () => {
          for (const consent of expired) {
            const system: Actor = { agencyId: '', userId: 'consent-expiry', role: 'service' };
            await tx.consents.appendChange(consent.subjectRef, {
              change: 'expired',
              consentId: consent.id,
              scopeIds: consent.scopes.map((s) => s.id),
              actor: system,
              at: consent.expiresAt,
              reason: '',
            });
            await tx.events.expired(consent);
          }
          return expired.length;
        },
      );
    });
  }

  async #issueReceipt(
    reader: Pick<ConsentTransaction, 'agencies'>,
    consent: ConsentRecord,
    language: ReceiptLanguage,
    receiptName: string,
    discreet = false,
    latestVersion = receiptVersion(consent),
  ): Promise<IssuedReceipt> {
    const ids = [
      consent.capturedBy.agencyId,
      ...consent.scopes.flatMap((s) => [
        ...s.recipientAgencyIds,
        ...(s.confirmedBy ? [s.confirmedBy.agencyId] : []),
        ...(s.proposedBy ? [s.proposedBy.agencyId] : []),
      ]),
    ];
    const names = await reader.agencies.names(ids);
    const json = kantaraReceipt(consent, language);
    return {
      language,
      text: receiptText(consent, language, (id) => names.get(id), receiptName, discreet),
      json,
      jws: this.#signer.sign(json),
      signingKeyId: this.#signer.keyId,
      signingPublicKey: this.#signer.publicKey,
      version: receiptVersion(consent),
      latestVersion,
    };
  }
}
