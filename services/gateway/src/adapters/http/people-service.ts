import { identity, type ApiContract } from '@passage/contracts';
import { PassageError } from '@passage/platform';
import type { AdminCaller, IssuedCredential, People, PersonRecord, SessionSummary } from '../../app/people.ts';
import { sessionRef } from '../../app/sessions.ts';
import type { LocalService, LocalSession } from './api-routes.ts';
import { localService, type LocalHandlers } from './local-service.ts';

const personOf = (person: PersonRecord): identity.Person => ({
  userId: person.userId,
  displayName: person.displayName,
  email: person.email,
  agencyId: person.agencyId,
  roles: [...person.roles],
  language: person.language,
  disabledAt: person.disabledAt,
  mustChangePassword: person.mustChangePassword,
  oidcSubjects: person.oidcSubjects.map((link) => ({ ...link })),
  createdAt: person.createdAt,
});

const credentialOf = (issued: IssuedCredential): identity.IssuedCredential => ({
  kind:
    issued.kind === 'link' ? identity.Credential.CREDENTIAL_LINK : identity.Credential.CREDENTIAL_TEMPORARY_PASSWORD,
  linkToken: issued.linkToken,
  temporaryPassword: issued.temporaryPassword,
  expiresAt: issued.expiresAt,
});

const kindOf = (credential: identity.Credential): 'link' | 'temporary_password' =>
  credential === identity.Credential.CREDENTIAL_TEMPORARY_PASSWORD ? 'temporary_password' : 'link';

const sessionOf = (session: SessionSummary): identity.Session => ({ ...session });

const language = (text: string): 'en' | 'fr' | undefined => (text === 'en' || text === 'fr' ? text : undefined);

/** The signed-in caller, as the use cases see them. */
function callerOf(session: LocalSession | undefined): AdminCaller {
  if (!session) throw new PassageError('unauthenticated', 'sign in first');
  const { userId, agencyId, roles } = session.record.user;
  return { userId, agencyId, roles, sessionRef: sessionRef(session.id) };
}

/** passage.identity.v1.PeopleService, implemented in the gateway's process (ADR 30). */
export function peopleService(people: People, contract: ApiContract): LocalService {
  const handlers: LocalHandlers<typeof identity.PeopleServiceService, LocalSession | undefined> = {
    createPerson: async (request, session) => {
      const caller = callerOf(session);
      const created = await people.create(
        caller,
        {
          userId: request.userId,
          displayName: request.displayName,
          email: request.email,
          agencyId: request.agencyId || caller.agencyId,
          roles: request.roles,
          language: language(request.language) ?? 'en',
        },
        kindOf(request.credential),
      );
      return { person: personOf(created.person), credential: credentialOf(created.credential) };
    },
    listPeople: async (request, session) => {
      const page = await people.list(callerOf(session), request.agencyId, request.cursor, request.pageSize);
      return { people: page.people.map(personOf), nextCursor: page.nextCursor };
    },
    getPerson: async (request, session) => ({ person: personOf(await people.get(callerOf(session), request.userId)) }),
    updatePerson: async (request, session) => ({
      person: personOf(
        await people.update(callerOf(session), request.userId, {
          displayName: request.displayName || undefined,
          email: request.email || undefined,
          roles: request.roles.length > 0 ? request.roles : undefined,
          language: language(request.language),
        }),
      ),
    }),
    disablePerson: async (request, session) => {
      const done = await people.disable(callerOf(session), request.userId);
      return { person: personOf(done.person), sessionsEnded: done.sessionsEnded };
    },
    enablePerson: async (request, session) => ({
      person: personOf(await people.enable(callerOf(session), request.userId)),
    }),
    resetPassword: async (request, session) => {
      const reset = await people.resetPassword(callerOf(session), request.userId, kindOf(request.credential));
      return { person: personOf(reset.person), credential: credentialOf(reset.credential) };
    },
    linkOidcSubject: async (request, session) => ({
      person: personOf(await people.linkOidc(callerOf(session), request.userId, request.subject!)),
    }),
    unlinkOidcSubject: async (request, session) => ({
      person: personOf(await people.unlinkOidc(callerOf(session), request.userId, request.subject!)),
    }),
    listSessions: async (request, session) => ({
      sessions: (await people.sessions(callerOf(session), request.userId)).map(sessionOf),
    }),
    endSessions: async (request, session) => ({
      sessionsEnded: await people.endSessions(callerOf(session), request.userId, request.sessionId),
    }),
    changePassword: async (request, session) => {
      await people.changePassword(callerOf(session), request.currentPassword, request.newPassword);
      return {};
    },
    importPeople: async (request, session) => {
      const result = await people.importPeople(
        callerOf(session),
        request.csv,
        request.dryRun,
        kindOf(request.credential),
      );
      return {
        errors: result.errors.map((e) => ({ ...e })),
        imported: result.imported.map((i) => ({ person: personOf(i.person), credential: credentialOf(i.credential) })),
        lines: result.lines,
      };
    },
    createScimClient: async (request, session) => await people.createScimClient(callerOf(session), request.agencyId),
    listColleagues: async (_request, session) => ({ colleagues: await people.colleagues(callerOf(session)) }),
    completePasswordLink: async (request) => ({
      userId: await people.completeLink(request.token, request.newPassword),
    }),
  };
  return localService('PeopleService', identity.PeopleServiceService, contract, handlers, (session) => session);
}
