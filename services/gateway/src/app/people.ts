import { createHash, randomBytes } from 'node:crypto';
import { PassageError } from '@passage/errors';
import {
  checkAgency,
  checkCreate,
  checkDisable,
  checkManages,
  checkRoleChange,
  checkTakesOver,
  isAdmin,
  linkLifetimeMs,
  passwordViolation,
  temporaryPasswordLifetimeMs,
  userIdViolation,
  visibleAgency,
  type Actor,
  type Target,
} from '../domain/people.ts';
import { checkImport, importUserIds, type ImportError, type ImportRow } from '../domain/people-import.ts';
import { throttlePolicy } from '../domain/sign-in.ts';
import { hashPassword, unusablePassword, verifyPassword } from './passwords.ts';
import type { UserStore } from './ports.ts';

export interface OidcLink {
  readonly issuer: string;
  readonly subject: string;
}

export interface PersonRecord {
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
  readonly language: 'en' | 'fr';
  readonly disabledAt: Date | undefined;
  readonly mustChangePassword: boolean;
  readonly oidcSubjects: readonly OidcLink[];
  readonly createdAt: Date;
}

export interface SessionSummary {
  /** The session's reference (sessionRef): the digest of its cookie, not the cookie. */
  readonly sessionId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/**
 * One audit entry of an administration (ADR 30), published as audit.v1.admin_action: ids
 * and role codes only, never a name or an email.
 */
export interface AdminAudit {
  readonly action:
    | 'person_created'
    | 'person_updated'
    | 'person_disabled'
    | 'person_enabled'
    | 'password_reset'
    | 'password_link_used'
    | 'password_changed'
    | 'oidc_linked'
    | 'oidc_unlinked'
    | 'sessions_ended'
    | 'scim_client_created'
    | 'integration_client_created'
    | 'integration_client_rotated'
    | 'integration_client_revoked';
  readonly actor: { readonly userId: string; readonly agencyId: string; readonly role: string };
  readonly targetUserId: string;
  readonly targetAgency: string;
  readonly roles: readonly string[];
  readonly previousRoles?: readonly string[];
  /** A person's first credential; an integration client's kind of credential (ADR 45). */
  readonly credential?: 'link' | 'temporary_password' | 'client_secret' | 'private_key_jwt';
  readonly sessionsEnded?: number;
  /** oidc_linked, oidc_unlinked: the issuer and the subject's SHA-256 (hex), never the subject. */
  readonly oidc?: { readonly issuer: string; readonly subjectSha256: string };
  readonly at: Date;
}

export interface NewPerson {
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
  readonly language: 'en' | 'fr';
}

export interface PersonChanges {
  readonly displayName?: string;
  readonly email?: string;
  /** Undefined: unchanged. Otherwise the roles from now on (never none: `[]` is refused). */
  readonly roles?: readonly string[];
  readonly language?: 'en' | 'fr';
}

/** Everything one administration changes, in one database transaction with its audit event. */
export interface PeopleTransaction {
  /** The person, locked for this transaction (and every change of administrators serialised). */
  lock(userId: string): Promise<(PersonRecord & { readonly passwordHash: string }) | undefined>;
  /** Active administrators other than this person. */
  otherActiveAdmins(userId: string): Promise<number>;
  /** False when the user id is taken. */
  /** `temporaryUntil`: a temporary password, which must be changed and works until then. */
  insert(person: NewPerson, passwordHash: string, temporaryUntil: Date | undefined, now: Date): Promise<boolean>;
  update(userId: string, changes: PersonChanges): Promise<void>;
  /** Disabling also spends the person's unused set-password links. */
  setDisabled(userId: string, at: Date | undefined): Promise<void>;
  /** Also spends the person's unused set-password links. */
  setPassword(userId: string, passwordHash: string, temporaryUntil: Date | undefined, now: Date): Promise<void>;
  /** Revokes the person's open sessions (one, by its reference; or all but one); how many ended. */
  endSessions(userId: string, now: Date, which?: { only?: string; except?: string }): Promise<number>;
  /** Stores a link's token hash; the person's earlier unused links stop working. */
  issueLink(userId: string, tokenHash: Buffer, now: Date, expiresAt: Date): Promise<void>;
  /** The person (not disabled) whose unused, unexpired link this is; the link is then spent. */
  takeLink(tokenHash: Buffer, now: Date): Promise<string | undefined>;
  /** The user the subject is linked to already, if another; otherwise links it. */
  link(userId: string, subject: OidcLink): Promise<string | undefined>;
  unlink(userId: string, subject: OidcLink): Promise<boolean>;
  record(audit: AdminAudit): Promise<void>;
  addScimClient(clientId: string, agencyId: string, tokenHash: Buffer, createdBy: string): Promise<void>;
}

export interface PeopleStore {
  person(userId: string): Promise<PersonRecord | undefined>;
  /** By user id, after `after`; one agency's or everyone's. */
  list(agencyId: string | undefined, after: string, limit: number): Promise<PersonRecord[]>;
  openSessions(userId: string, now: Date): Promise<SessionSummary[]>;
  /** Which of these user ids are taken. */
  taken(userIds: readonly string[]): Promise<Set<string>>;
  /** The unrevoked SCIM client of that token hash. */
  scimClient(tokenHash: Buffer): Promise<{ clientId: string; agencyId: string } | undefined>;
  transaction<T>(work: (tx: PeopleTransaction) => Promise<T>): Promise<T>;
}

/** Told when sessions end in the store, so what hangs on them here (tokens, live feeds) ends. */
export interface SessionsEnded {
  sessionsEnded(ended: { readonly sessionId: string } | { readonly userId: string }): void;
}

/** Who is administering: the signed-in person, and their session's reference. */
export interface AdminCaller extends Actor {
  readonly sessionRef: string;
}

export type CredentialKind = 'link' | 'temporary_password';

export interface IssuedCredential {
  readonly kind: CredentialKind;
  readonly linkToken: string;
  readonly temporaryPassword: string;
  readonly expiresAt: Date | undefined;
}

/** An identity-provider link as the audit log names it: the issuer, and a digest of the subject. */
const oidcAudit = (link: OidcLink) => ({
  issuer: link.issuer,
  subjectSha256: createHash('sha256').update(link.subject).digest('hex'),
});
/** Until when a credential is a temporary password (none for a link). */
const temporaryUntil = (credential: IssuedCredential): Date | undefined =>
  credential.kind === 'temporary_password' ? credential.expiresAt : undefined;
const tokenHash = (token: string): Buffer => createHash('sha256').update(token).digest();
const targetOf = (person: PersonRecord): Target => ({
  userId: person.userId,
  agencyId: person.agencyId,
  roles: person.roles,
  disabled: person.disabledAt !== undefined,
});
const actorOf = (caller: AdminCaller) => ({
  userId: caller.userId,
  agencyId: caller.agencyId,
  role: isAdmin(caller) ? 'admin' : 'supervisor',
});

/** People administration (ADR 30): the rules in domain/people.ts, each change audited. */
export class People {
  readonly #store: PeopleStore;
  readonly #sessions: SessionsEnded;
  readonly #now: () => Date;
  readonly #attempts: Pick<UserStore, 'admit' | 'forgive'>;

  /** `attempts`: the sign-in throttle (ADR 21), which a password change's current password goes through too. */
  constructor(
    store: PeopleStore,
    sessions: SessionsEnded,
    attempts: Pick<UserStore, 'admit' | 'forgive'>,
    now: () => Date = () => new Date(),
  ) {
    this.#store = store;
    this.#sessions = sessions;
    this.#attempts = attempts;
    this.#now = now;
  }

  async create(
    caller: AdminCaller,
    person: NewPerson,
    kind: CredentialKind,
  ): Promise<{ person: PersonRecord; credential: IssuedCredential }> {
    checkCreate(caller, person.agencyId, person.roles);
    const reserved = userIdViolation(person.userId);
    if (reserved) throw PassageError.invalid([reserved]);
    const now = this.#now();
    const credential = this.#issue(kind, now);
    const initial = await this.#initialHash(credential);
    await this.#store.transaction(async (tx) => {
      const created = await tx.insert(person, initial, temporaryUntil(credential), now);
      if (!created)
        throw new PassageError('already_exists', `the user id ${person.userId} is taken`, [
          { field: 'user_id', description: 'taken: choose another user id' },
        ]);
      if (kind === 'link')
        await tx.issueLink(person.userId, tokenHash(credential.linkToken), now, credential.expiresAt!);
      await tx.record({
        action: 'person_created',
        actor: actorOf(caller),
        targetUserId: person.userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        credential: kind,
        at: now,
      });
    });
    return { person: await this.#found(person.userId), credential };
  }

  async list(
    caller: AdminCaller,
    agencyId: string,
    cursor: string,
    pageSize: number,
  ): Promise<{ people: PersonRecord[]; nextCursor: string }> {
    const visible = visibleAgency(caller);
    if (agencyId) checkAgency(caller, agencyId);
    const limit = pageSize > 0 ? pageSize : 50;
    const people = await this.#store.list(agencyId || visible, cursor, limit + 1);
    const page = people.slice(0, limit);
    return { people: page, nextCursor: people.length > limit ? (page.at(-1)?.userId ?? '') : '' };
  }

  /**
   * The enabled people of the caller's own agency: names and roles, nothing else (ADR 38).
   * Whom a referral can be assigned to, and who did what on a timeline. Any signed-in person.
   */
  async colleagues(caller: AdminCaller): Promise<Array<{ userId: string; displayName: string; roles: string[] }>> {
    const found: PersonRecord[] = [];
    let after = '';
    // An agency's staff is small; pages of 500 keep each query bounded all the same.
    for (;;) {
      const page = await this.#store.list(caller.agencyId, after, 500);
      found.push(...page);
      if (page.length < 500) break;
      after = page.at(-1)!.userId;
    }
    return found
      .filter((person) => !person.disabledAt)
      .map((person) => ({ userId: person.userId, displayName: person.displayName, roles: [...person.roles] }));
  }

  async get(caller: AdminCaller, userId: string): Promise<PersonRecord> {
    return this.#visible(caller, await this.#store.person(userId), userId);
  }

  /** Fields left undefined stay as they are; `roles: []` is refused (a person needs a role). */
  async update(caller: AdminCaller, userId: string, changes: PersonChanges): Promise<PersonRecord> {
    const now = this.#now();
    const rolesChanged = await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      const roles = changes.roles;
      if (roles !== undefined) checkRoleChange(caller, targetOf(person), roles, await tx.otherActiveAdmins(userId));
      else checkManages(caller, targetOf(person));
      const rolesChanged = roles !== undefined && [...roles].sort().join() !== [...person.roles].sort().join();
      const changed =
        rolesChanged ||
        (changes.displayName !== undefined &&
          changes.displayName !== '' &&
          changes.displayName !== person.displayName) ||
        (changes.email !== undefined && changes.email !== person.email) ||
        (changes.language !== undefined && changes.language !== person.language);
      // Nothing to change: nothing written, nothing audited.
      if (!changed) return false;
      await tx.update(userId, { ...changes, roles: rolesChanged ? roles : undefined });
      await tx.record({
        action: 'person_updated',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: rolesChanged ? roles : person.roles,
        ...(rolesChanged ? { previousRoles: person.roles } : {}),
        at: now,
      });
      return rolesChanged;
    });
    // What was granted for the old roles goes: cached caller tokens, and live feeds (which the
    // person reopens under the new roles, and the oversight feed only as auditor or admin).
    if (rolesChanged) this.#sessions.sessionsEnded({ userId });
    return this.#found(userId);
  }

  async disable(caller: AdminCaller, userId: string): Promise<{ person: PersonRecord; sessionsEnded: number }> {
    const now = this.#now();
    const ended = await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      checkDisable(caller, targetOf(person), await tx.otherActiveAdmins(userId));
      if (person.disabledAt) return 0;
      await tx.setDisabled(userId, now);
      const count = await tx.endSessions(userId, now);
      await tx.record({
        action: 'person_disabled',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        sessionsEnded: count,
        at: now,
      });
      return count;
    });
    this.#sessions.sessionsEnded({ userId });
    return { person: await this.#found(userId), sessionsEnded: ended };
  }

  async enable(caller: AdminCaller, userId: string): Promise<PersonRecord> {
    const now = this.#now();
    await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      checkManages(caller, targetOf(person));
      if (!person.disabledAt) return;
      await tx.setDisabled(userId, undefined);
      await tx.record({
        action: 'person_enabled',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        at: now,
      });
    });
    return this.#found(userId);
  }

  async resetPassword(
    caller: AdminCaller,
    userId: string,
    kind: CredentialKind,
  ): Promise<{ person: PersonRecord; credential: IssuedCredential }> {
    const now = this.#now();
    const credential = this.#issue(kind, now);
    const initial = await this.#initialHash(credential);
    await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      checkTakesOver(caller, targetOf(person));
      await tx.setPassword(userId, initial, temporaryUntil(credential), now);
      if (kind === 'link') await tx.issueLink(userId, tokenHash(credential.linkToken), now, credential.expiresAt!);
      const count = await tx.endSessions(userId, now);
      await tx.record({
        action: 'password_reset',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        credential: kind,
        sessionsEnded: count,
        at: now,
      });
    });
    this.#sessions.sessionsEnded({ userId });
    return { person: await this.#found(userId), credential };
  }

  async linkOidc(caller: AdminCaller, userId: string, subject: OidcLink): Promise<PersonRecord> {
    const now = this.#now();
    await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      checkTakesOver(caller, targetOf(person));
      const other = await tx.link(userId, subject);
      if (other !== undefined)
        throw new PassageError('already_exists', 'this identity-provider account is linked to another person', [
          { field: 'subject', description: 'linked to another person: unlink it there first' },
        ]);
      await tx.record({
        action: 'oidc_linked',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        oidc: oidcAudit(subject),
        at: now,
      });
    });
    return this.#found(userId);
  }

  async unlinkOidc(caller: AdminCaller, userId: string, subject: OidcLink): Promise<PersonRecord> {
    const now = this.#now();
    await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      checkTakesOver(caller, targetOf(person));
      if (!(await tx.unlink(userId, subject)))
        throw new PassageError('not_found', 'this person has no such identity-provider link', [
          { field: 'subject', description: 'not linked to this person' },
        ]);
      await tx.record({
        action: 'oidc_unlinked',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        oidc: oidcAudit(subject),
        at: now,
      });
    });
    return this.#found(userId);
  }

  async sessions(caller: AdminCaller, userId: string): Promise<SessionSummary[]> {
    const person = this.#visible(caller, await this.#store.person(userId), userId);
    checkManages(caller, targetOf(person));
    return this.#store.openSessions(userId, this.#now());
  }

  async endSessions(caller: AdminCaller, userId: string, sessionId: string): Promise<number> {
    const now = this.#now();
    const ended = await this.#store.transaction(async (tx) => {
      const person = await this.#lockedFor(tx, caller, userId);
      checkManages(caller, targetOf(person));
      const count = await tx.endSessions(userId, now, sessionId ? { only: sessionId } : {});
      if (sessionId && count === 0)
        throw new PassageError('not_found', 'no such open session of this person', [
          { field: 'session_id', description: 'not an open session of this person' },
        ]);
      await tx.record({
        action: 'sessions_ended',
        actor: actorOf(caller),
        targetUserId: userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        sessionsEnded: count,
        at: now,
      });
      return count;
    });
    this.#sessions.sessionsEnded(sessionId ? { sessionId } : { userId });
    return ended;
  }

  /** The signed-in person's own password; their other sessions end. */
  async changePassword(caller: AdminCaller, current: string, chosen: string): Promise<void> {
    const bad = passwordViolation(chosen, 'new_password');
    if (bad) throw PassageError.invalid([bad]);
    const now = this.#now();
    // Guesses of the current password through a session are throttled as sign-ins are: the
    // session stands for the address, and the account's count is the same.
    const keys = { username: caller.userId, address: `session:${caller.sessionRef}` };
    const admission = await this.#attempts.admit(keys, now, throttlePolicy);
    if (!admission.gate.open)
      throw new PassageError('resource_exhausted', 'too many wrong passwords: wait up to 15 minutes and try again');
    await this.#store.transaction(async (tx) => {
      const person = await this.#locked(tx, caller.userId);
      if (!(await verifyPassword(current, person.passwordHash)))
        throw new PassageError('permission_denied', 'the current password is wrong', [
          { field: 'current_password', description: 'wrong password' },
        ]);
      await this.#attempts.forgive(keys);
      if (current === chosen)
        throw PassageError.invalid([
          { field: 'new_password', description: 'choose a password other than the current one' },
        ]);
      await tx.setPassword(caller.userId, await hashPassword(chosen), undefined, now);
      const count = await tx.endSessions(caller.userId, now, { except: caller.sessionRef });
      await tx.record({
        action: 'password_changed',
        actor: { userId: caller.userId, agencyId: caller.agencyId, role: caller.roles[0] ?? '' },
        targetUserId: caller.userId,
        targetAgency: person.agencyId,
        roles: person.roles,
        sessionsEnded: count,
        at: now,
      });
    });
  }

  /** Sets a password with a one-time link's token; the link is spent and the person's sessions end. */
  async completeLink(token: string, chosen: string): Promise<string> {
    const bad = passwordViolation(chosen, 'new_password');
    if (bad) throw PassageError.invalid([bad]);
    const now = this.#now();
    const userId = await this.#store.transaction(async (tx) => {
      const owner = await tx.takeLink(tokenHash(token), now);
      if (!owner)
        throw new PassageError('failed_precondition', 'this link is unknown, used or expired: ask for a new one', [
          { field: 'token', description: 'unknown, used or expired' },
        ]);
      const person = await this.#locked(tx, owner);
      await tx.setPassword(owner, await hashPassword(chosen), undefined, now);
      const count = await tx.endSessions(owner, now);
      await tx.record({
        action: 'password_link_used',
        actor: { userId: owner, agencyId: person.agencyId, role: person.roles[0] ?? '' },
        targetUserId: owner,
        targetAgency: person.agencyId,
        roles: person.roles,
        sessionsEnded: count,
        at: now,
      });
      return owner;
    });
    this.#sessions.sessionsEnded({ userId });
    return userId;
  }

  /**
   * Many people from CSV, all or nothing: every error by line; with any (or a dry run), nobody
   * is made. Otherwise all are made in one transaction, each with a credential and an audit entry.
   */
  async importPeople(
    caller: AdminCaller,
    csv: string,
    dryRun: boolean,
    kind: CredentialKind,
  ): Promise<{
    errors: ImportError[];
    imported: { person: PersonRecord; credential: IssuedCredential }[];
    lines: number;
  }> {
    const checked = checkImport(csv, caller, await this.#store.taken(importUserIds(csv)));
    if (checked.errors.length > 0 || dryRun) return { errors: checked.errors, imported: [], lines: checked.lines };
    const now = this.#now();
    const made: { userId: string; credential: IssuedCredential }[] = [];
    // Hashed before the transaction opens: a file's worth of scrypt holds no connection or lock.
    const prepared: { row: ImportRow; credential: IssuedCredential; initial: string }[] = [];
    for (const row of checked.rows) {
      const credential = this.#issue(kind, now);
      prepared.push({ row, credential, initial: await this.#initialHash(credential) });
    }
    await this.#store.transaction(async (tx) => {
      for (const { row, credential, initial } of prepared) {
        const created = await tx.insert(row, initial, temporaryUntil(credential), now);
        // Taken since the check: the whole import is undone.
        if (!created)
          throw new PassageError('already_exists', `line ${row.line}: the user id ${row.userId} was just taken`, [
            { field: 'csv', description: `line ${row.line}, user_id: taken` },
          ]);
        if (kind === 'link')
          await tx.issueLink(row.userId, tokenHash(credential.linkToken), now, credential.expiresAt!);
        await tx.record({
          action: 'person_created',
          actor: actorOf(caller),
          targetUserId: row.userId,
          targetAgency: row.agencyId,
          roles: row.roles,
          credential: kind,
          at: now,
        });
        made.push({ userId: row.userId, credential });
      }
    });
    const imported = [];
    for (const { userId, credential } of made) imported.push({ person: await this.#found(userId), credential });
    return { errors: [], imported, lines: checked.lines };
  }

  /** Admin only: a SCIM provisioning client for one agency; its token is answered once. */
  async createScimClient(
    caller: AdminCaller,
    agencyId: string,
  ): Promise<{ clientId: string; agencyId: string; token: string }> {
    if (!isAdmin(caller)) throw new PassageError('permission_denied', 'SCIM clients are made by the administrator');
    const clientId = `scim-${randomBytes(6).toString('hex')}`;
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    await this.#store.transaction(async (tx) => {
      await tx.addScimClient(clientId, agencyId, tokenHash(token), caller.userId);
      await tx.record({
        action: 'scim_client_created',
        actor: actorOf(caller),
        targetUserId: clientId,
        targetAgency: agencyId,
        roles: ['supervisor'],
        at: now,
      });
    });
    return { clientId, agencyId, token };
  }

  /**
   * The caller a SCIM bearer token stands for: its agency's supervisor, named by the client's
   * id (ADR 30); none for an unknown or revoked token.
   */
  async scimCaller(token: string): Promise<AdminCaller | undefined> {
    if (!token || token.length > 200) return undefined;
    const client = await this.#store.scimClient(tokenHash(token));
    return client
      ? { userId: client.clientId, agencyId: client.agencyId, roles: ['supervisor'], sessionRef: '' }
      : undefined;
  }

  #issue(kind: CredentialKind, now: Date): IssuedCredential {
    return kind === 'link'
      ? {
          kind,
          linkToken: randomBytes(32).toString('base64url'),
          temporaryPassword: '',
          expiresAt: new Date(now.getTime() + linkLifetimeMs),
        }
      : {
          kind,
          linkToken: '',
          temporaryPassword: randomBytes(12).toString('base64url'),
          expiresAt: new Date(now.getTime() + temporaryPasswordLifetimeMs),
        };
  }

  /**
   * What the account stores at first (or at a reset): the temporary password's hash, or — for a
   * link — no password at all until the person sets one (`unusablePassword`: nothing matches it).
   */
  async #initialHash(credential: IssuedCredential): Promise<string> {
    return credential.kind === 'temporary_password' ? hashPassword(credential.temporaryPassword) : unusablePassword;
  }

  async #found(userId: string): Promise<PersonRecord> {
    const person = await this.#store.person(userId);
    if (!person)
      throw new PassageError('not_found', `no person ${userId}`, [{ field: 'user_id', description: 'no such person' }]);
    return person;
  }

  /**
   * The person, if the caller may see them: someone of another agency is, to a supervisor, as
   * absent as someone who does not exist (one answer, NOT_FOUND: it tells no user id exists).
   */
  #visible<P extends PersonRecord>(caller: AdminCaller, person: P | undefined, userId: string): P {
    checkAgency(caller, caller.agencyId);
    const agency = visibleAgency(caller);
    if (!person || (agency !== undefined && person.agencyId !== agency))
      throw new PassageError('not_found', `no person ${userId}`, [{ field: 'user_id', description: 'no such person' }]);
    return person;
  }

  async #lockedFor(
    tx: PeopleTransaction,
    caller: AdminCaller,
    userId: string,
  ): Promise<PersonRecord & { readonly passwordHash: string }> {
    return this.#visible(caller, await tx.lock(userId), userId);
  }

  async #locked(tx: PeopleTransaction, userId: string): Promise<PersonRecord & { readonly passwordHash: string }> {
    const person = await tx.lock(userId);
    if (!person)
      throw new PassageError('not_found', `no person ${userId}`, [{ field: 'user_id', description: 'no such person' }]);
    return person;
  }
}
