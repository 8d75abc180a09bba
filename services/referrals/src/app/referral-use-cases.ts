import { createHash } from 'node:crypto';
import { isPurpose, type DataCategory, type Purpose } from '@passage/consent-policy';
import { requireRole, workerRoles, type Caller, type Role } from '@passage/auth';
import { SubjectErasedError, shredded } from '@passage/crypto';
import { uuidv7 } from '@passage/events';
import { PassageError } from '@passage/errors';
import { apply, assign, type Command, type EscalationTarget, type LifecycleError } from '../domain/lifecycle.ts';
import { decodeCursor, encodeCursor, type ListPosition } from '../domain/list-order.ts';
import {
  checkBody,
  isParty,
  mayReadThread,
  messageField,
  refusePost,
  type Message,
  type MessageKind,
} from '../domain/messages.ts';
import { actingRecipient, states, type Actor, type Referral, type State, type Transition } from '../domain/referral.ts';
import {
  checkIdempotencyKey,
  checkSend,
  limits,
  refusedCategories,
  type PacketSection,
  type RawSend,
  type SendInput,
  type Violation,
} from '../domain/send-rules.ts';
import { clockStartAtOpening, dueTimes } from '@passage/sla';
import { formatReference, isSupportAgencyKind, parseReceiptReference, parseReference } from '@passage/vocabulary';
import type {
  AgencyFacts,
  ConsentGateway,
  DirectoryGateway,
  ListQuery,
  ReferralStorage,
  ReferralTransaction,
  SealedMessage,
  SendTransaction,
  Workload,
} from './ports.ts';

/**
 * Roles of the crisis line that may take an escalated referral over: a person's decision, never
 * an agency's system (ADR 45).
 */
const takeOverRoles: readonly Role[] = ['crisis_counsellor', 'supervisor'];
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

/** What became of one escalation of a batch (`busy`: the same key is being recorded elsewhere; try again). */
export type EscalationOutcome = 'escalated' | 'target_met' | 'unknown_referral' | 'busy' | 'refused';

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
    const { clockStartsAt, linked } = await this.#afterHours(caller, input, recipient, sentAt);
    // Urgent targets run on the clock; standard ones on the recipient's opening hours. After
    // hours, when asked, both count from the recipient's next opening (ADR 41).
    const due = dueTimes(clockStartsAt ?? sentAt, input.priority, recipient.sla, recipient.hours);
    const unnumbered: Referral = {
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
      takenOverBy: '',
      // Given in the transaction below, from the reference sequence.
      reference: '',
      assignedUser: '',
      linkedReferralId: linked?.id ?? '',
      linkedAgency: linked?.toAgency ?? '',
      clockStartsAt,
    };
    const transition: Transition = {
      from: '',
      to: 'sent',
      event: 'sent',
      actor: unnumbered.sentBy,
      at: sentAt,
      reason: '',
    };
    const idempotency = { agencyId: caller.agencyId, key: input.idempotencyKey, command, requestHash };
    // Consent was asked before this transaction; a revocation handled since then has recorded
    // what it ended, under the same subject lock, and the write refuses to cite it. Then a
    // second transaction sends under what still stands, if anything does.
    const sendOnce = (again: boolean) =>
      this.#storage.sends.transaction(async (tx): Promise<Referral | 'grants_ended'> => {
        const reference = formatReference(await tx.lockAndNumber(unnumbered.subjectRef));
        const grants = again ? await tx.withoutEndedGrants(unnumbered.grants) : unnumbered.grants;
        if (grants.length === 0) {
          throw new PassageError(
            'failed_precondition',
            'the consent that covered this referral was just withdrawn; nothing was sent',
          );
        }
        const referral: Referral = { ...unnumbered, grants, reference };
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
        const packet = input.packet.map((s, i) => ({ category: s.category, sealed: ciphertexts[i]! }));
        // After hours, the referral just sent to the crisis line is linked in the same transaction.
        const linking = Boolean(referral.linkedReferralId);
        const outcome = await tx.record({ referral, packet, transition, idempotency }, !linking);
        if (outcome === 'sent') return linking ? this.#linkBack(tx, referral) : referral;
        if (outcome === 'key_taken') return (await this.#replay(caller, input.idempotencyKey, command, requestHash))!;
        return outcome;
      });
    const sent = await sendOnce(false);
    if (sent !== 'grants_ended') return sent;
    const retried = await sendOnce(true);
    if (retried === 'grants_ended') throw new PassageError('aborted', 'consent changed while sending; send again');
    return retried;
  }

  /**
   * After hours (ADR 41): when the recipient is closed now, its clock may start at its next
   * opening — computed here from the directory's hours and this service's clock, never the
   * caller's — and the referral may name the one just sent to the 24/7 crisis line.
   */
  async #afterHours(
    caller: Caller,
    input: SendInput,
    recipient: AgencyFacts,
    sentAt: Date,
  ): Promise<{ clockStartsAt: Date | undefined; linked: Referral | undefined }> {
    if (!input.clockStartsAtOpening) return { clockStartsAt: undefined, linked: undefined };
    const clockStartsAt = clockStartAtOpening(sentAt, recipient.hours);
    if (!clockStartsAt)
      throw PassageError.invalid([
        {
          field: 'clock_starts_at_opening',
          description: `${input.toAgency} is open now (or never closes): its clock starts when the referral is sent`,
        },
      ]);
    if (!input.linkedReferralId) return { clockStartsAt, linked: undefined };
    const linked = await this.#storage.reader().referrals.get(input.linkedReferralId);
    const invalidLink = (description: string) => PassageError.invalid([{ field: 'linked_referral_id', description }]);
    if (!linked || linked.fromAgency !== caller.agencyId) throw invalidLink('a referral your agency sent');
    if (linked.subjectRef !== input.subjectRef) throw invalidLink('a referral for the same person');
    if ((await this.#directory.agency(linked.toAgency))?.kind !== 'crisis_line')
      throw invalidLink('a referral to the 24/7 crisis line');
    if (linked.linkedReferralId) throw invalidLink('a referral not yet linked to another');
    return { clockStartsAt, linked };
  }

  /** The crisis line's referral of an after-hours pair names the agency's one too. */
  async #linkBack(tx: SendTransaction, referral: Referral): Promise<Referral> {
    if (!referral.linkedReferralId) return referral;
    if (!(await tx.link(referral.linkedReferralId, referral.id, referral.toAgency)))
      throw PassageError.invalid([
        { field: 'linked_referral_id', description: 'a referral not yet linked to another' },
      ]);
    return referral;
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
      if (!isParty(declined, context.caller.agencyId)) throw notFound(request.referralId);
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
    request: {
      idempotencyKey: string;
      referralId: string;
      expectedVersion: number;
      command: Command;
      /** The agency's internal note: its own only. */
      note?: string;
      /** With a decline: why, for the sending agency (the thread's decline_reason message). */
      noteForSender?: string;
    },
  ): Promise<Referral> {
    const { caller } = context;
    // Escalation is the escalation service's to record; every other step is a person's.
    if (request.command.kind === 'escalate') requireRole(caller, ['service'], 'recording an escalation');
    else if (request.command.kind === 'take_over') requireRole(caller, takeOverRoles, 'to take over a referral');
    else requireRole(caller, workerRoles, `to ${request.command.kind.replace('_', ' ')} a referral`);
    const violations: Violation[] = [];
    checkIdempotencyKey(request.idempotencyKey, violations);
    if (request.note && Buffer.byteLength(request.note, 'utf8') > limits.textBytes) {
      violations.push({ field: 'note', description: `at most ${limits.textBytes} bytes` });
    }
    if (request.noteForSender) {
      if (request.command.kind !== 'decline')
        violations.push({ field: 'note_for_sender', description: 'only a decline has a reason for the sender' });
      else violations.push(...checkBody(request.noteForSender, 'note_for_sender'));
    }
    if (violations.length > 0) throw PassageError.invalid(violations);
    checkReferralId(request.referralId);
    const requestHash = hashOf(request);
    const earlier = await this.#replay(caller, request.idempotencyKey, request.command.kind, requestHash);
    if (earlier) return earlier;
    if (request.command.kind === 'decline' && request.command.suggestedAgency)
      await this.#checkSuggestion(request.command.suggestedAgency);
    // Asked before the transaction (directory and consent are remote); the domain decides the rest inside.
    if (request.command.kind === 'take_over') await this.#checkTakeOver(context, request.referralId);

    return this.#storage.transaction(async (tx) => {
      const { current, outcome } = await this.#prepareMove(tx, caller, request, requestHash);
      await this.#persist(tx, current, outcome.referral, outcome.transition);
      if (request.note) {
        await tx.referrals.setNote(
          current.id,
          await tx.vault.encrypt(current.subjectRef, `referral:${current.id}:note`, request.note),
          caller.agencyId,
        );
      }
      if (request.noteForSender) {
        // The first message of the thread, or the next one: the sender reads it there.
        await this.#postIn(tx, outcome.referral, actorOf(caller), {
          kind: 'decline_reason',
          body: request.noteForSender,
          idempotencyKey: `decline:${request.idempotencyKey}`,
          requestHash,
        });
      }
      return outcome.referral;
    });
  }

  /**
   * Escalations for many timers in one transaction (the escalation service's batches, ADR 47):
   * each exactly as `transition` records an escalate command — the same idempotency key and
   * request hash, so a retry through either path finds the first result — with an outcome of
   * its own. An escalation the domain refuses (target met, no such referral, a key used for
   * another request) says so and the others go on; it has written nothing. A fault after an
   * escalation's first write fails the whole batch, which then records nothing.
   */
  async escalateMany(
    context: CallerContext,
    escalations: readonly { idempotencyKey: string; referralId: string; target: string }[],
  ): Promise<{ outcome: EscalationOutcome; detail: string }[]> {
    const { caller } = context;
    requireRole(caller, ['service'], 'recording an escalation');
    const violations: Violation[] = [];
    escalations.forEach((escalation, i) => {
      const found: Violation[] = [];
      checkIdempotencyKey(escalation.idempotencyKey, found);
      if (!uuid.test(escalation.referralId)) found.push({ field: 'referral_id', description: 'a referral id (UUID)' });
      violations.push(...found.map((v) => ({ ...v, field: `escalations[${i}].${v.field}` })));
    });
    if (violations.length > 0) throw PassageError.invalid(violations);
    return this.#storage.transaction(async (tx) => {
      const outcomes: { outcome: EscalationOutcome; detail: string }[] = [];
      for (const escalation of escalations) {
        const request = {
          idempotencyKey: escalation.idempotencyKey,
          referralId: escalation.referralId,
          expectedVersion: 0,
          command: { kind: 'escalate', target: escalation.target as EscalationTarget } satisfies Command,
        };
        const requestHash = hashOf(request);
        const earlier = await tx.idempotency.find(caller.agencyId, request.idempotencyKey);
        if (earlier) {
          const same = earlier.command === 'escalate' && earlier.requestHash === requestHash;
          outcomes.push(
            same
              ? { outcome: 'escalated', detail: '' }
              : { outcome: 'refused', detail: 'the idempotency key was used for a different request' },
          );
          continue;
        }
        let prepared;
        try {
          prepared = await this.#prepareMove(tx, caller, request, requestHash);
        } catch (error) {
          if (!(error instanceof PassageError)) throw error;
          const outcome: EscalationOutcome =
            error.code === 'failed_precondition'
              ? 'target_met'
              : error.code === 'not_found'
                ? 'unknown_referral'
                : error.code === 'aborted'
                  ? 'busy'
                  : 'refused';
          outcomes.push({ outcome, detail: error.message });
          continue;
        }
        await this.#persist(tx, prepared.current, prepared.outcome.referral, prepared.outcome.transition);
        outcomes.push({ outcome: 'escalated', detail: '' });
      }
      return outcomes;
    });
  }

  /**
   * What only the services around the domain can tell about a take-over: the caller's agency
   * is a crisis line of the directory, and the person's consent covers it for a referral now
   * (asked with the caller's token, like Get). To an agency that could not read the referral,
   * it does not exist.
   */
  async #checkTakeOver(context: CallerContext, referralId: string): Promise<void> {
    const { caller } = context;
    const referral = await this.#storage.reader().referrals.get(referralId);
    if (!referral) throw notFound(referralId);
    // The referral's own agencies: the domain refuses them with its reason.
    if (isParty(referral, caller.agencyId)) return;
    const agency = await this.#directory.agency(caller.agencyId);
    if (agency?.kind !== 'crisis_line' || !referral.escalated) throw notFound(referralId);
    const decision = await this.#consent.evaluate(context.token, {
      subjectRef: referral.subjectRef,
      agencyId: caller.agencyId,
      kind: agency.kind,
      purpose: 'referral',
    });
    if (decision.allowed.size === 0) {
      throw new PassageError(
        'failed_precondition',
        `no active consent lets ${caller.agencyId} take this referral over; the person's consent does not cover your agency`,
      );
    }
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
    let party = isParty(referral, caller.agencyId);
    // An escalated referral is taken up by the 24/7 crisis line: it may read it, under consent like anyone.
    if (!party && referral.escalated) party = await this.#isCrisisLine(caller.agencyId);
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
    // Nor one the crisis line took over: the original recipient keeps the metadata and timeline.
    const takenFrom = caller.agencyId === referral.toAgency && referral.takenOverBy !== '';
    const recipientDone =
      caller.agencyId === actingRecipient(referral) &&
      (referral.state === 'withdrawn' || referral.state === 'declined');
    const allowed: ReadonlySet<DataCategory> =
      recipientDone || takenFrom ? new Set() : new Set(decision.allowed.keys());
    const sections = await this.#readPacket(referral, allowed, reader);
    const returned: DataCategory[] = sections.map((s) => s.category);
    const packet: PacketView[] = referral.categories.map((category) => {
      const section = sections.find((s) => s.category === category);
      return section
        ? { category, content: section.content, withheld: false }
        : { category, content: '', withheld: true };
    });
    // A note is the internal note of the agency that wrote it (decline or close): to that agency
    // only — what the sender is told is in the thread — and, being free text about the person's
    // situation, under that category's consent. The recipient keeps reading its own note after
    // its decline: they are its words, not the person's packet.
    let note = '';
    const stored = decision.allowed.has(noteCategory) ? await reader.referrals.note(referral.id) : undefined;
    if (stored && stored.agencyId === caller.agencyId) {
      const opened = await reader.vault.decrypt(referral.subjectRef, `referral:${referral.id}:note`, stored.sealed);
      if (opened !== shredded) {
        note = opened;
        if (!returned.includes(noteCategory)) returned.push(noteCategory);
      }
    }
    const consentIds = [...new Set(returned.flatMap((c) => decision.allowed.get(c)?.map((g) => g.consentId) ?? []))];
    const outcome = returned.length > 0 ? 'granted' : 'denied';
    const reason =
      returned.length > 0
        ? ''
        : recipientDone
          ? `referral_${referral.state}`
          : takenFrom
            ? 'referral_taken_over'
            : 'no_consent';
    await this.#storage.transaction((tx) =>
      tx.events.access({ actor, referral, outcome, categories: returned, consentIds, purpose, reason }),
    );
    return {
      referral: { ...referral, doNotContact: referral.doNotContact || decision.doNotContact },
      packet,
      note,
    };
  }

  /**
   * A message to the other party of the referral, sealed under the person's key; published as
   * referral.v1.<from>.<to>.message_posted (ids only). A retry with the same key returns the
   * first message.
   */
  async postMessage(
    context: CallerContext,
    request: { idempotencyKey: string; referralId: string; body: string },
  ): Promise<Message> {
    const { caller } = context;
    requireRole(caller, workerRoles, 'writing on a referral');
    const violations: Violation[] = [];
    checkIdempotencyKey(request.idempotencyKey, violations);
    violations.push(...checkBody(request.body));
    if (violations.length > 0) throw PassageError.invalid(violations);
    checkReferralId(request.referralId);
    const requestHash = hashOf({ referralId: request.referralId, body: request.body });
    const earlier = await this.#replayMessage(caller, request.idempotencyKey, requestHash, request.body);
    if (earlier) return earlier;
    const found = await this.#storage.reader().referrals.get(request.referralId);
    // To anyone but its parties a referral does not exist.
    if (!found || !isParty(found, caller.agencyId)) throw notFound(request.referralId);
    const posted = await this.#storage.transaction(async (tx) => {
      // The lock a Send, an erasure and the retention schedule take: no key changes under us.
      await tx.referrals.lockSubject(found.subjectRef);
      const referral = (await tx.referrals.get(found.id))!;
      return this.#postIn(tx, referral, actorOf(caller), {
        kind: 'message',
        body: request.body,
        idempotencyKey: request.idempotencyKey,
        requestHash,
      });
    });
    return posted ?? (await this.#replayMessage(caller, request.idempotencyKey, requestHash, request.body))!;
  }

  /**
   * The referral's thread, oldest first, to its parties; every read is recorded (audit.v1.access,
   * record referral_messages), a refused one too. A body destroyed (erasure, retention) comes
   * back removed; a withdrawn referral's thread is no longer the recipient's to read.
   */
  async listMessages(context: CallerContext, referralId: string): Promise<Message[]> {
    const { caller } = context;
    requireRole(caller, workerRoles, 'reading a referral');
    checkReferralId(referralId);
    const reader = this.#storage.reader();
    const referral = await reader.referrals.get(referralId);
    if (!referral) throw notFound(referralId);
    const actor = actorOf(caller);
    const record = (outcome: 'granted' | 'denied', reason: string) =>
      this.#storage.transaction((tx) =>
        tx.events.access({
          actor,
          referral,
          outcome,
          categories: [],
          consentIds: [],
          purpose: 'referral',
          reason,
          record: 'referral_messages',
        }),
      );
    if (!isParty(referral, caller.agencyId)) {
      await record('denied', 'not_a_party');
      throw notFound(referralId);
    }
    const readable = mayReadThread(referral, caller.agencyId);
    const messages: Message[] = [];
    for (const stored of await reader.messages.thread(referral.id)) {
      messages.push({ ...stored.message, body: readable ? await this.#open(reader, referral, stored) : undefined });
    }
    await record(readable ? 'granted' : 'denied', readable ? '' : `referral_${referral.state}`);
    return messages;
  }

  async #postIn(
    tx: ReferralTransaction,
    referral: Referral,
    author: Actor,
    post: { kind: MessageKind; body: string; idempotencyKey: string; requestHash: string },
  ): Promise<Message | undefined> {
    const refusal = refusePost(referral, await tx.messages.count(referral.id));
    if (refusal) throw new PassageError(refusal.code, refusal.message);
    if (await tx.messages.sealedDataDestroyed(referral.id)) {
      throw new PassageError(
        'failed_precondition',
        "this referral's sealed data was destroyed: it takes no more messages",
      );
    }
    const message: Omit<Message, 'body'> = {
      id: uuidv7(),
      referralId: referral.id,
      author,
      postedAt: this.#now(),
      kind: post.kind,
    };
    let sealed: Buffer;
    try {
      sealed = await tx.vault.encrypt(referral.subjectRef, messageField(referral.id, message.id), post.body);
    } catch (error) {
      if (error instanceof SubjectErasedError) {
        throw new PassageError('failed_precondition', "this person's data was erased; nothing was written");
      }
      throw error;
    }
    const stored = await tx.messages.insert({
      message,
      sealed,
      idempotencyKey: post.idempotencyKey,
      requestHash: post.requestHash,
    });
    if (!stored) return undefined;
    await tx.events.messagePosted(referral, message);
    return { ...message, body: post.body };
  }

  async #open(
    reader: Omit<ReferralTransaction, 'events' | 'sends'>,
    referral: Referral,
    stored: SealedMessage,
  ): Promise<string | undefined> {
    if (!stored.sealed) return undefined;
    const opened = await reader.vault.decrypt(
      referral.subjectRef,
      messageField(referral.id, stored.message.id),
      stored.sealed,
    );
    return opened === shredded ? undefined : opened;
  }

  async #replayMessage(caller: Caller, key: string, requestHash: string, body: string): Promise<Message | undefined> {
    const earlier = await this.#storage.reader().messages.byKey(caller.agencyId, key);
    if (!earlier) return undefined;
    if (earlier.requestHash !== requestHash) {
      throw PassageError.invalid([
        { field: 'idempotency_key', description: 'already used for a different request; use a new key' },
      ]);
    }
    // The same request: the words are the caller's own, as it sent them.
    return { ...earlier.message, body };
  }

  /** A side of the agency's referrals: needs-your-action first, then newest (ADR 38). */
  async list(
    caller: Caller,
    side: 'inbox' | 'outbox',
    request: { agency: string; states: readonly string[]; cursor: string; pageSize: number; assignedTo?: string },
  ): Promise<ReferralPage> {
    const agencyId = this.#listedAgency(caller, request.agency);
    const violations: Violation[] = [];
    const states = checkStates(request.states, 'states', violations);
    const after = checkCursor(request.cursor, violations);
    const assignedTo = side === 'inbox' ? assignedFilter(caller, request.assignedTo ?? '', violations) : undefined;
    if (violations.length > 0) throw PassageError.invalid(violations);
    return this.#page({ agencyId, side, states, after, assignedTo, limit: pageLimit(request.pageSize) });
  }

  /**
   * Referrals the agency sent or received, by short reference, receipt reference, state,
   * sending time and assignee, in list order. A reference that cannot be one finds nothing
   * rather than failing: people type them from paper.
   */
  async search(
    caller: Caller,
    request: {
      agency: string;
      reference: string;
      receiptReference: string;
      states: readonly string[];
      sentFrom?: Date | undefined;
      sentTo?: Date | undefined;
      assignedTo: string;
      cursor: string;
      pageSize: number;
    },
  ): Promise<ReferralPage> {
    const agencyId = this.#listedAgency(caller, request.agency);
    const violations: Violation[] = [];
    const states = checkStates(request.states, 'states', violations);
    const after = checkCursor(request.cursor, violations);
    const assignedTo = assignedFilter(caller, request.assignedTo, violations);
    let referenceNumber: number | undefined;
    if (request.reference.trim()) {
      referenceNumber = parseReference(request.reference);
      if (referenceNumber === undefined)
        violations.push({ field: 'reference', description: 'a referral reference such as R-7K3M-Q9' });
    }
    let receiptReference: string | undefined;
    if (request.receiptReference.trim()) {
      receiptReference = parseReceiptReference(request.receiptReference);
      if (receiptReference === undefined)
        violations.push({ field: 'receipt_reference', description: 'the 8 letters and digits of a consent receipt' });
    }
    if (request.sentFrom && request.sentTo && request.sentFrom.getTime() >= request.sentTo.getTime()) {
      violations.push({ field: 'sent_to', description: 'after sent_from' });
    }
    if (violations.length > 0) throw PassageError.invalid(violations);
    return this.#page({
      agencyId,
      side: 'both',
      states,
      referenceNumber,
      receiptReference,
      sentFrom: request.sentFrom,
      sentTo: request.sentTo,
      assignedTo,
      after,
      limit: pageLimit(request.pageSize),
    });
  }

  /** Claim, assign, reassign or unassign (domain/lifecycle.ts, assign). */
  async assign(
    caller: Caller,
    request: { idempotencyKey: string; referralId: string; assignedUser: string; expectedVersion: number },
  ): Promise<Referral> {
    requireRole(caller, workerRoles, 'to assign a referral');
    const violations: Violation[] = [];
    checkIdempotencyKey(request.idempotencyKey, violations);
    if (violations.length > 0) throw PassageError.invalid(violations);
    checkReferralId(request.referralId);
    const requestHash = hashOf(request);
    const earlier = await this.#replay(caller, request.idempotencyKey, 'assign', requestHash);
    if (earlier) return earlier;
    return this.#storage.transaction(async (tx) => {
      const current = await tx.referrals.get(request.referralId);
      if (!current) throw notFound(request.referralId);
      const party = caller.agencyId === current.fromAgency || caller.agencyId === current.toAgency;
      if (!party) throw notFound(request.referralId);
      if (request.expectedVersion && request.expectedVersion !== current.version) {
        throw new PassageError(
          'aborted',
          `the referral changed (version ${current.version}, you saw ${request.expectedVersion}); reload and try again`,
        );
      }
      const outcome = assign(
        current,
        request.assignedUser,
        actorOf(caller),
        caller.roles.includes('supervisor'),
        this.#now(),
      );
      if (!outcome.ok) throw lifecycleRefusal(outcome.error);
      if (
        !(await tx.idempotency.save(caller.agencyId, request.idempotencyKey, {
          command: 'assign',
          requestHash,
          referral: outcome.referral,
        }))
      ) {
        throw new PassageError('aborted', 'the same request is being processed; retry to get its result');
      }
      if (outcome.changed) await this.#persist(tx, current, outcome.referral, outcome.transition);
      return outcome.referral;
    });
  }

  /** Open referrals per worker of the agency, for its supervisors (and auditors, admins). */
  async caseload(caller: Caller, agency: string): Promise<{ workloads: Workload[]; unassigned: number }> {
    const agencyId = agency || caller.agencyId;
    const overseer = caller.roles.includes('auditor') || caller.roles.includes('admin');
    if (!overseer) requireRole(caller, ['supervisor'], "to see the agency's caseload");
    if (agencyId !== caller.agencyId && !overseer) {
      throw new PassageError('permission_denied', `you may see ${caller.agencyId}'s caseload, not ${agencyId}'s`);
    }
    return this.#storage.reader().referrals.caseload(agencyId);
  }

  #listedAgency(caller: Caller, agency: string): string {
    const agencyId = agency || caller.agencyId;
    if (agencyId !== caller.agencyId && !caller.roles.includes('auditor') && !caller.roles.includes('admin')) {
      throw new PassageError('permission_denied', `you may list ${caller.agencyId}'s referrals, not ${agencyId}'s`);
    }
    return agencyId;
  }

  async #page(query: ListQuery): Promise<ReferralPage> {
    const rows = await this.#storage.reader().referrals.list({ ...query, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      referrals: page.map((row) => row.referral),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ rank: last.rank, id: last.referral.id }) : '',
    };
  }

  /**
   * Steps, agencies, roles and codes — nothing of the person: readable to every party (the
   * sender, the original recipient, the crisis line that took it over), to a crisis line
   * once the referral is escalated (it reads it like Get), and to auditors and administrators.
   */
  async timeline(caller: Caller, referralId: string): Promise<Transition[]> {
    checkReferralId(referralId);
    const reader = this.#storage.reader();
    const referral = await reader.referrals.get(referralId);
    if (!referral) throw notFound(referralId);
    const readable =
      isParty(referral, caller.agencyId) ||
      caller.roles.includes('auditor') ||
      caller.roles.includes('admin') ||
      (referral.escalated && (await this.#isCrisisLine(caller.agencyId)));
    if (!readable) throw notFound(referralId);
    return reader.referrals.timeline(referralId);
  }

  async #isCrisisLine(agencyId: string): Promise<boolean> {
    return (await this.#directory.agency(agencyId))?.kind === 'crisis_line';
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
    const system: Actor = { agencyId: '', userId: 'consent', role: 'service' };
    const outcome = apply(
      referral,
      { kind: 'withdraw', reason: 'consent_revoked', bySystem: true },
      system,
      this.#now(),
    );
    if (!outcome.ok) return;
    await this.#persist(tx, referral, outcome.referral, outcome.transition);
  }

  /**
   * Everything of a step before its first write, in the transaction: the referral as it is,
   * the caller's right to move it, the domain's decision, the idempotency key taken. Throws
   * with the reason when the step cannot happen — having written nothing but, at most, the
   * key (which a failed save does not write).
   */
  async #prepareMove(
    tx: ReferralTransaction,
    caller: Caller,
    request: { idempotencyKey: string; referralId: string; expectedVersion: number; command: Command },
    requestHash: string,
  ): Promise<{ current: Referral; outcome: Extract<ReturnType<typeof apply>, { ok: true }> }> {
    const current = await tx.referrals.get(request.referralId);
    if (!current) throw notFound(request.referralId);
    // Only the parties move a referral (escalation is the system's, a take-over was checked
    // above): to anyone else it does not exist.
    const party = isParty(current, caller.agencyId);
    if (!party && request.command.kind !== 'escalate' && request.command.kind !== 'take_over')
      throw notFound(request.referralId);
    if (request.expectedVersion && request.expectedVersion !== current.version) {
      throw new PassageError(
        'aborted',
        `the referral changed (version ${current.version}, you saw ${request.expectedVersion}); reload and try again`,
      );
    }
    const outcome = apply(current, request.command, actorOf(caller), this.#now());
    if (!outcome.ok) throw lifecycleRefusal(outcome.error);
    if (
      !(await tx.idempotency.save(caller.agencyId, request.idempotencyKey, {
        command: request.command.kind,
        requestHash,
        referral: outcome.referral,
      }))
    ) {
      throw new PassageError('aborted', 'the same request is being processed; retry to get its result');
    }
    return { current, outcome };
  }

  async #persist(tx: ReferralTransaction, current: Referral, next: Referral, transition: Transition): Promise<void> {
    if (!(await tx.referrals.update(next, current.version))) {
      throw new PassageError('aborted', 'the referral was changed at the same moment; reload and try again');
    }
    await tx.referrals.appendTransition(next.id, transition);
    await tx.events.changed(next, transition);
  }

  async #replay(caller: Caller, key: string, command: string, requestHash: string): Promise<Referral | undefined> {
    const earlier = await this.#storage.sends.findKey(caller.agencyId, key);
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

export interface ReferralPage {
  readonly referrals: Referral[];
  /** Empty on the last page. */
  readonly nextCursor: string;
}

function pageLimit(pageSize: number): number {
  return Math.min(Math.max(pageSize || 50, 1), 200);
}

function checkStates(values: readonly string[], field: string, violations: Violation[]): State[] {
  values.forEach((state, i) => {
    if (!(states as readonly string[]).includes(state))
      violations.push({ field: `${field}[${i}]`, description: `unknown state "${state}"` });
  });
  return values.filter((s): s is State => (states as readonly string[]).includes(s));
}

function checkCursor(cursor: string, violations: Violation[]): ListPosition | undefined {
  if (!cursor) return undefined;
  const position = decodeCursor(cursor);
  if (!position) violations.push({ field: 'cursor', description: 'use the next_cursor of a previous page' });
  return position;
}

/** "me", "none", a user id, or '' (everyone): the assigned_user to match, undefined for all. */
function assignedFilter(caller: Caller, value: string, violations: Violation[]): string | undefined {
  if (value === '') return undefined;
  if (value === 'me') return caller.userId;
  if (value === 'none') return '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/.test(value)) {
    violations.push({ field: 'assigned_to', description: '"me", "none" or a user id' });
  }
  return value;
}

/** One answer for a referral that does not exist and one that is not the caller's to see. */
function notFound(referralId: string): PassageError {
  return new PassageError('not_found', `no referral ${referralId}`);
}

function invalidPurpose(purpose: string): never {
  throw PassageError.invalid([{ field: 'purpose', description: `unknown purpose "${purpose}"` }]);
}

/** What the lifecycle refused, as the API's one error type: a bad field names the field. */
function lifecycleRefusal(error: LifecycleError): PassageError {
  return error.code === 'invalid_argument'
    ? PassageError.invalid([{ field: error.field, description: error.message }])
    : new PassageError(error.code, error.message);
}
