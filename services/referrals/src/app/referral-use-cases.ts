import { createHash } from 'node:crypto';
import { isPurpose, type DataCategory, type Purpose } from '@passage/consent-policy';
import { requireRole, type Caller, type Role } from '@passage/auth';
import { SubjectErasedError, shredded } from '@passage/crypto';
import { uuidv7 } from '@passage/events';
import { PassageError } from '@passage/errors';
import { apply, type Command } from '../domain/lifecycle.ts';
import { states, type Actor, type Referral, type State, type Transition } from '../domain/referral.ts';
import {
  checkIdempotencyKey,
  checkSend,
  limits,
  refusedCategories,
  type PacketSection,
  type RawSend,
  type Violation,
} from '../domain/send-rules.ts';
import { dueTimes } from '@passage/sla';
import { isSupportAgencyKind } from '@passage/vocabulary';
import type { ConsentGateway, DirectoryGateway, ReferralStorage, ReferralTransaction } from './ports.ts';

/** Roles that hand people on and work referrals; auditors read lists and timelines only. */
const workerRoles: readonly Role[] = ['officer', 'crisis_counsellor', 'intake_worker', 'supervisor'];
/** The data category a decline or close note is read under. */
const noteCategory: DataCategory = 'situation';
/** The reason code of a send or resend the person's consent does not cover (ADR 36). */
export const consentDoesNotCover = 'consent_does_not_cover';
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface PacketView {
  readonly category: DataCategory;
  readonly content: string;
  readonly withheld: boolean;
}

export interface ReferralView {
  readonly referral: Referral;
  readonly packet: readonly PacketView[];
  readonly note: string;
}

export interface CallerContext {
  readonly caller: Caller;
  /** The caller's own token, forwarded to consent so its decision is the caller's. */
  readonly token: string;
}

function actorOf(caller: Caller): Actor {
  return { agencyId: caller.agencyId, userId: caller.userId, role: caller.roles[0] ?? '' };
}

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url');
}

function checkReferralId(id: string, field = 'referral_id'): void {
  if (!uuid.test(id)) throw PassageError.invalid([{ field, description: 'a referral id (UUID)' }]);
}

export class ReferralUseCases {
  readonly #storage: ReferralStorage;
  readonly #directory: DirectoryGateway;
  readonly #consent: ConsentGateway;
  readonly #now: () => Date;

  constructor(
    storage: ReferralStorage,
    directory: DirectoryGateway,
    consent: ConsentGateway,
    now: () => Date = () => new Date(),
  ) {
    this.#storage = storage;
    this.#directory = directory;
    this.#consent = consent;
    this.#now = now;
  }

  /** Hands a person to another agency, carrying only what their consent allows that agency. */
  async send(context: CallerContext, raw: RawSend, previousReferralId = ''): Promise<Referral> {
    const { caller } = context;
    requireRole(caller, workerRoles, 'sending a referral');
    const checked = checkSend(raw);
    if (!checked.ok) throw PassageError.invalid(checked.violations);
    const input = checked.value;
    if (input.fromAgency !== caller.agencyId) {
      throw new PassageError('permission_denied', `you send referrals for ${caller.agencyId}, not ${input.fromAgency}`);
    }
    const command = previousReferralId ? 'resend' : 'send';
    const requestHash = hashOf({ ...input, previousReferralId });
    const earlier = await this.#replay(caller, input.idempotencyKey, command, requestHash);
    if (earlier) return earlier;

    const recipient = await this.#directory.agency(input.toAgency);
    if (!recipient)
      throw PassageError.invalid([
        { field: 'to_agency', description: `no agency "${input.toAgency}" in the directory` },
      ]);
    if (!recipient.acceptingReferrals) {
      throw new PassageError(
        'failed_precondition',
        `${input.toAgency} is not accepting referrals now; choose another agency (Match suggests one)`,
      );
    }
    const decision = await this.#consent.evaluate(context.token, {
      subjectRef: input.subjectRef,
      agencyId: input.toAgency,
      kind: recipient.kind,
      purpose: 'referral',
    });
    // Reason consent_does_not_cover: the sender can amend the person's consent with them
    // (ConsentService.Amend) and send again, and the console offers just that (ADR 36).
    if (decision.allowed.size === 0) {
      throw new PassageError(
        'failed_precondition',
        `the person's consent does not cover ${input.toAgency}: no active consent lets it receive a referral for this person; amend the consent with the person (or record one), then send again`,
        [],
        { reason: consentDoesNotCover },
      );
    }
    const refused = refusedCategories(input.packet, new Set(decision.allowed.keys()));
    if (refused.length > 0) {
      throw new PassageError(
        'invalid_argument',
        `packet: consent does not allow ${input.toAgency} these categories: ${refused.join(', ')}`,
        [
          {
            field: 'packet',
            description: `consent does not allow ${input.toAgency} these categories: ${refused.join(', ')}; remove them, or amend the consent with the person, and send again`,
          },
        ],
        { reason: consentDoesNotCover },
      );
    }

    const sentAt = this.#now();
    // Urgent targets run on the clock; standard ones on the recipient's opening hours.
    const due = dueTimes(sentAt, input.priority, recipient.sla, recipient.hours);
    const referral: Referral = {
      id: uuidv7(),
      subjectRef: input.subjectRef,
      fromAgency: input.fromAgency,
      toAgency: input.toAgency,
      priority: input.priority,
      state: 'sent',
      version: 1,
      needs: input.needs,
      language: input.language,
      interpreterNeeded: input.interpreterNeeded,
      doNotContact: decision.doNotContact,
      categories: input.packet.map((s) => s.category),
      grants: [
        ...new Map([...decision.allowed.values()].flat().map((g) => [`${g.consentId}/${g.scopeId}`, g])).values(),
      ],
      previousReferralId,
      sentBy: actorOf(caller),
      sentAt,
      acknowledgeDueAt: due.acknowledgeBy,
      acceptDueAt: due.acceptBy,
      reason: '',
      suggestedAgency: '',
      contactMethod: '',
      escalated: false,
    };
    const transition: Transition = {
      from: '',
      to: 'sent',
      event: 'sent',
      actor: referral.sentBy,
      at: sentAt,
      reason: '',
    };
    return this.#storage.transaction(async (tx) => {
      // Consent was asked before this transaction; a revocation handled since then has
      // recorded what it ended, under the same subject lock. Send only what still stands.
      await tx.referrals.lockSubject(referral.subjectRef);
      let ciphertexts: Buffer[];
      try {
        ciphertexts = await tx.vault.encryptAll(
          referral.subjectRef,
          input.packet.map((s) => ({ field: `referral:${referral.id}:${s.category}`, plaintext: s.content })),
        );
      } catch (error) {
        if (error instanceof SubjectErasedError) {
          throw new PassageError('failed_precondition', "this person's data was erased; nothing was sent");
        }
        throw error;
      }
      const sealed = input.packet.map((s, i) => ({ category: s.category, sealed: ciphertexts[i]! }));
      const idempotency = { agencyId: caller.agencyId, key: input.idempotencyKey, command, requestHash };
      const outcome = await tx.sends.record({ referral, packet: sealed, transition, idempotency });
      if (outcome === 'sent') return referral;
      if (outcome === 'key_taken') return (await this.#replay(caller, input.idempotencyKey, command, requestHash))!;

      // Some scope ended meanwhile (rare): send under what still stands, if anything does.
      const standing = await tx.referrals.withoutEndedGrants(referral.grants);
      if (standing.length === 0) {
        throw new PassageError(
          'failed_precondition',
          'the consent that covered this referral was just withdrawn; nothing was sent',
        );
      }
      const sending: Referral = { ...referral, grants: standing };
      const retried = await tx.sends.record({ referral: sending, packet: sealed, transition, idempotency });
      if (retried !== 'sent') throw new PassageError('aborted', 'consent changed while sending; send again');
      return sending;
    });
  }

  /** After a decline: the same person to another agency, consent checked again. */
  async resend(
    context: CallerContext,
    request: {
      idempotencyKey: string;
      referralId: string;
      toAgency: string;
      packet: ReadonlyArray<{ category: string; content: string }>;
    },
  ): Promise<Referral> {
    checkReferralId(request.referralId);
    const declined = await this.#storage.reader().referrals.get(request.referralId);
    if (!declined) throw notFound(request.referralId);
    if (declined.fromAgency !== context.caller.agencyId) {
      if (declined.toAgency !== context.caller.agencyId) throw notFound(request.referralId);
      throw new PassageError('permission_denied', 'only the sending agency may resend a referral');
    }
    if (declined.state !== 'declined') {
      throw new PassageError(
        'failed_precondition',
        `only a declined referral can be resent; this one is ${declined.state.replace('_', ' ')}`,
      );
    }
    let packet = request.packet;
    if (packet.length === 0) packet = await this.#readPacket(declined, new Set(declined.categories));
    return this.send(
      context,
      {
        idempotencyKey: request.idempotencyKey,
        subjectRef: declined.subjectRef,
        fromAgency: declined.fromAgency,
        toAgency: request.toAgency,
        priority: declined.priority,
        needs: declined.needs,
        language: declined.language,
        interpreterNeeded: declined.interpreterNeeded,
        packet,
      },
      declined.id,
    );
  }

  /**
   * A declining agency may suggest where the person could go instead: an agency of the
   * directory, and a support agency — never a police service or the Crown (a person's support
   * referral is not a report to the justice system).
   */
  async #checkSuggestion(agencyId: string): Promise<void> {
    const suggested = await this.#directory.agency(agencyId);
    if (!suggested)
      throw PassageError.invalid([
        { field: 'suggested_agency', description: `no agency "${agencyId}" in the directory` },
      ]);
    if (!isSupportAgencyKind(suggested.kind))
      throw PassageError.invalid([
        {
          field: 'suggested_agency',
          description: 'suggest a support agency, not a police service or the Crown',
        },
      ]);
  }

  /** Acknowledge, accept, decline, record contact, close, withdraw. */
  async transition(
    context: CallerContext,
    request: { idempotencyKey: string; referralId: string; expectedVersion: number; command: Command; note?: string },
  ): Promise<Referral> {
    const { caller } = context;
    // Escalation is the escalation service's to record; every other step is a person's.
    if (request.command.kind === 'escalate') requireRole(caller, ['system'], 'recording an escalation');
    else requireRole(caller, workerRoles, `to ${request.command.kind.replace('_', ' ')} a referral`);
    const violations: Violation[] = [];
    checkIdempotencyKey(request.idempotencyKey, violations);
    if (request.note && Buffer.byteLength(request.note, 'utf8') > limits.textBytes) {
      violations.push({ field: 'note', description: `at most ${limits.textBytes} bytes` });
    }
    if (violations.length > 0) throw PassageError.invalid(violations);
    checkReferralId(request.referralId);
    const requestHash = hashOf(request);
    const earlier = await this.#replay(caller, request.idempotencyKey, request.command.kind, requestHash);
    if (earlier) return earlier;
    if (request.command.kind === 'decline' && request.command.suggestedAgency)
      await this.#checkSuggestion(request.command.suggestedAgency);

    return this.#storage.transaction(async (tx) => {
      const current = await tx.referrals.get(request.referralId);
      if (!current) throw notFound(request.referralId);
      // Only the two agencies move a referral (escalation is the system's): to anyone else it does not exist.
      const party = caller.agencyId === current.fromAgency || caller.agencyId === current.toAgency;
      if (!party && request.command.kind !== 'escalate') throw notFound(request.referralId);
      if (request.expectedVersion && request.expectedVersion !== current.version) {
        throw new PassageError(
          'aborted',
          `the referral changed (version ${current.version}, you saw ${request.expectedVersion}); reload and try again`,
        );
      }
      const outcome = apply(current, request.command, actorOf(caller), this.#now());
      if (!outcome.ok) {
        const { error } = outcome;
        if (error.code === 'invalid_argument')
          throw PassageError.invalid([{ field: error.field, description: error.message }]);
        throw new PassageError(error.code, error.message);
      }
      if (
        !(await tx.idempotency.save(caller.agencyId, request.idempotencyKey, {
          command: request.command.kind,
          requestHash,
          referral: outcome.referral,
        }))
      ) {
        throw new PassageError('aborted', 'the same request is being processed; retry to get its result');
      }
      await this.#persist(tx, current, outcome.referral, outcome.transition);
      if (request.note) {
        await tx.referrals.setNote(
          current.id,
          await tx.vault.encrypt(current.subjectRef, `referral:${current.id}:note`, request.note),
        );
      }
      return outcome.referral;
    });
  }

  /**
   * Metadata and the packet as consent allows the caller's agency at this moment; a
   * category not allowed comes back withheld. Every read is recorded (audit.v1.access),
   * a refused one too. If consent cannot be asked, the read fails closed.
   */
  async get(context: CallerContext, referralId: string, purposeName: string): Promise<ReferralView> {
    const { caller } = context;
    checkReferralId(referralId);
    const purpose: Purpose = purposeName
      ? isPurpose(purposeName)
        ? purposeName
        : invalidPurpose(purposeName)
      : 'referral';
    requireRole(caller, workerRoles, 'reading a referral');
    const reader = this.#storage.reader();
    const referral = await reader.referrals.get(referralId);
    if (!referral) throw notFound(referralId);
    const actor = actorOf(caller);
    let party = caller.agencyId === referral.fromAgency || caller.agencyId === referral.toAgency;
    // An escalated referral is taken up by the 24/7 crisis line: it may read it, under consent like anyone.
    if (!party && referral.escalated) party = (await this.#directory.agency(caller.agencyId))?.kind === 'crisis_line';
    if (!party) {
      await this.#storage.transaction((tx) =>
        tx.events.access({
          actor,
          referral,
          outcome: 'denied',
          categories: [],
          consentIds: [],
          purpose,
          reason: 'not_a_party',
        }),
      );
      // The answer a made-up id gets: whether a referral exists is not for others to learn.
      throw notFound(referralId);
    }
    const agency = await this.#directory.agency(caller.agencyId);
    if (!agency)
      throw new PassageError('failed_precondition', `your agency ${caller.agencyId} is not in the directory`);
    const decision = await this.#consent.evaluate(context.token, {
      subjectRef: referral.subjectRef,
      agencyId: caller.agencyId,
      kind: agency.kind,
      purpose,
    });
    // A referral the recipient declined, or the sender withdrew, is no longer the
    // recipient's to read: nothing of the person comes back to it, whatever consent says.
    const recipientDone =
      caller.agencyId === referral.toAgency && (referral.state === 'withdrawn' || referral.state === 'declined');
    const allowed: ReadonlySet<DataCategory> = recipientDone ? new Set() : new Set(decision.allowed.keys());
    const sections = await this.#readPacket(referral, allowed, reader);
    const returned: DataCategory[] = sections.map((s) => s.category);
    const packet: PacketView[] = referral.categories.map((category) => {
      const section = sections.find((s) => s.category === category);
      return section
        ? { category, content: section.content, withheld: false }
        : { category, content: '', withheld: true };
    });
    // Notes are free text about the person's situation: read under that category's consent.
    let note = '';
    const sealedNote = allowed.has(noteCategory) ? await reader.referrals.note(referral.id) : undefined;
    if (sealedNote) {
      const opened = await reader.vault.decrypt(referral.subjectRef, `referral:${referral.id}:note`, sealedNote);
      if (opened !== shredded) {
        note = opened;
        if (!returned.includes(noteCategory)) returned.push(noteCategory);
      }
    }
    const consentIds = [...new Set(returned.flatMap((c) => decision.allowed.get(c)?.map((g) => g.consentId) ?? []))];
    const outcome = returned.length > 0 ? 'granted' : 'denied';
    const reason = returned.length > 0 ? '' : recipientDone ? `referral_${referral.state}` : 'no_consent';
    await this.#storage.transaction((tx) =>
      tx.events.access({ actor, referral, outcome, categories: returned, consentIds, purpose, reason }),
    );
    return {
      referral: { ...referral, doNotContact: referral.doNotContact || decision.doNotContact },
      packet,
      note,
    };
  }

  async list(
    caller: Caller,
    side: 'inbox' | 'outbox',
    request: { agency: string; states: readonly string[]; cursor: string; pageSize: number },
  ) {
    const agencyId = request.agency || caller.agencyId;
    if (agencyId !== caller.agencyId && !caller.roles.includes('auditor') && !caller.roles.includes('admin')) {
      throw new PassageError('permission_denied', `you may list ${caller.agencyId}'s referrals, not ${agencyId}'s`);
    }
    const violations: Violation[] = [];
    request.states.forEach((state, i) => {
      if (!(states as readonly string[]).includes(state))
        violations.push({ field: `states[${i}]`, description: `unknown state "${state}"` });
    });
    // A cursor is a position this service wrote: digits, small enough for a Postgres offset.
    const position = request.cursor ? Buffer.from(request.cursor, 'base64url').toString() : '0';
    const offset = /^\d{1,15}$/.test(position) ? Number(position) : -1;
    if (offset < 0) violations.push({ field: 'cursor', description: 'use the next_cursor of a previous page' });
    if (violations.length > 0) throw PassageError.invalid(violations);
    const limit = Math.min(Math.max(request.pageSize || 50, 1), 200);
    const page = await this.#storage
      .reader()
      .referrals.list({ agencyId, side, states: request.states as State[], offset, limit: limit + 1 });
    const more = page.length > limit;
    return {
      referrals: page.slice(0, limit),
      nextCursor: more ? Buffer.from(String(offset + limit)).toString('base64url') : '',
    };
  }

  async timeline(caller: Caller, referralId: string): Promise<Transition[]> {
    checkReferralId(referralId);
    const reader = this.#storage.reader();
    const referral = await reader.referrals.get(referralId);
    if (!referral) throw notFound(referralId);
    const party = caller.agencyId === referral.fromAgency || caller.agencyId === referral.toAgency;
    if (!party && !caller.roles.includes('auditor') && !caller.roles.includes('admin')) throw notFound(referralId);
    return reader.referrals.timeline(referralId);
  }

  /** consent.v1.revoked / expired: withdraw open referrals no scope covers any longer. */
  async onConsentEnded(
    tx: ReferralTransaction,
    subjectRef: string,
    consentId: string,
    scopeIds: readonly string[] | 'all',
  ): Promise<number> {
    // Under the subject's lock, and remembered, so that a Send whose consent check raced
    // this revocation finds it when it commits (see send()).
    await tx.referrals.lockSubject(subjectRef);
    await tx.referrals.recordEndedGrants(consentId, scopeIds);
    let withdrawn = 0;
    for (const referral of await tx.referrals.openCitingConsent(consentId)) {
      const remaining = referral.grants.filter(
        (g) => g.consentId !== consentId || (scopeIds !== 'all' && !scopeIds.includes(g.scopeId)),
      );
      if (remaining.length > 0) {
        // Which scopes still cover it is bookkeeping, not a state change: no new version.
        if (remaining.length !== referral.grants.length) await tx.referrals.setGrants(referral.id, remaining);
        continue;
      }
      await this.#withdrawBySystem(tx, { ...referral, grants: [] });
      withdrawn++;
    }
    return withdrawn;
  }

  /** consent.v1.subject_erased: withdraw what is open, destroy the subject's key and sealed data. */
  async onSubjectErased(tx: ReferralTransaction, subjectRef: string): Promise<void> {
    await tx.referrals.lockSubject(subjectRef);
    for (const referral of await tx.referrals.openForSubject(subjectRef)) await this.#withdrawBySystem(tx, referral);
    await tx.vault.shred(subjectRef);
    await tx.referrals.dropSubjectData(subjectRef);
  }

  async #withdrawBySystem(tx: ReferralTransaction, referral: Referral): Promise<void> {
    const system: Actor = { agencyId: '', userId: 'consent', role: 'system' };
    const outcome = apply(
      referral,
      { kind: 'withdraw', reason: 'consent_revoked', bySystem: true },
      system,
      this.#now(),
    );
    if (!outcome.ok) return;
    await this.#persist(tx, referral, outcome.referral, outcome.transition);
  }

  async #persist(tx: ReferralTransaction, current: Referral, next: Referral, transition: Transition): Promise<void> {
    if (!(await tx.referrals.update(next, current.version))) {
      throw new PassageError('aborted', 'the referral was changed at the same moment; reload and try again');
    }
    await tx.referrals.appendTransition(next.id, transition);
    await tx.events.changed(next, transition);
  }

  async #replay(caller: Caller, key: string, command: string, requestHash: string): Promise<Referral | undefined> {
    const earlier = await this.#storage.reader().idempotency.find(caller.agencyId, key);
    if (!earlier) return undefined;
    if (earlier.command !== command || earlier.requestHash !== requestHash) {
      throw PassageError.invalid([
        { field: 'idempotency_key', description: 'already used for a different request; use a new key' },
      ]);
    }
    return earlier.referral;
  }

  /** The packet's sections among `allowed`, decrypted; a shredded subject has none left. */
  async #readPacket(
    referral: Referral,
    allowed: ReadonlySet<DataCategory>,
    reader = this.#storage.reader(),
  ): Promise<PacketSection[]> {
    const sections: PacketSection[] = [];
    for (const section of await reader.referrals.packet(referral.id)) {
      if (!allowed.has(section.category)) continue;
      const content = await reader.vault.decrypt(
        referral.subjectRef,
        `referral:${referral.id}:${section.category}`,
        section.sealed,
      );
      if (content !== shredded) sections.push({ category: section.category, content });
    }
    // In the order the sender wrote them.
    return sections.sort((a, b) => referral.categories.indexOf(a.category) - referral.categories.indexOf(b.category));
  }
}

/** One answer for a referral that does not exist and one that is not the caller's to see. */
function notFound(referralId: string): PassageError {
  return new PassageError('not_found', `no referral ${referralId}`);
}

function invalidPurpose(purpose: string): never {
  throw PassageError.invalid([{ field: 'purpose', description: `unknown purpose "${purpose}"` }]);
}
