import { readFileSync } from 'node:fs';
import { GatewayClient } from '../gateway.ts';
import { UsageError } from '../connection.ts';
import { formatRows, type Format, type Row } from '../output.ts';

const people = 'passage.identity.v1.PeopleService';
const directory = 'passage.directory.v1.DirectoryService';

export interface PeopleFlags {
  readonly as?: string | undefined;
  readonly format: Format;
  readonly agency?: string | undefined;
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly roles?: string | undefined;
  readonly language?: string | undefined;
  readonly credential?: string | undefined;
  readonly issuer?: string | undefined;
  readonly subject?: string | undefined;
  readonly session?: string | undefined;
  readonly 'dry-run'?: boolean | undefined;
  readonly kind?: string | undefined;
  readonly 'name-en'?: string | undefined;
  readonly 'name-fr'?: string | undefined;
  readonly regions?: string | undefined;
  readonly services?: string | undefined;
  readonly supervisor?: string | undefined;
  readonly 'supervisor-name'?: string | undefined;
  readonly 'supervisor-email'?: string | undefined;
}

interface Person {
  userId: string;
  displayName: string;
  agencyId: string;
  roles: string[];
  language: string;
  disabledAt?: string;
  mustChangePassword: boolean;
  oidcSubjects: { issuer: string; subject: string }[];
}

interface IssuedCredential {
  kind: string;
  linkToken: string;
  temporaryPassword: string;
  expiresAt?: string;
}

const personColumns = ['userId', 'displayName', 'agencyId', 'roles', 'language', 'state', 'oidcLinks'];

function personRow(person: Person): Row {
  return {
    userId: person.userId,
    displayName: person.displayName,
    agencyId: person.agencyId,
    roles: person.roles.join(' '),
    language: person.language,
    state: person.disabledAt ? 'disabled' : person.mustChangePassword ? 'must change password' : 'active',
    oidcLinks: person.oidcSubjects.length,
  };
}

function credentialOf(flag: string | undefined): string {
  if (flag === undefined || flag === 'link') return 'CREDENTIAL_LINK';
  if (flag === 'temporary-password') return 'CREDENTIAL_TEMPORARY_PASSWORD';
  throw new UsageError('--credential: link or temporary-password');
}

/** What to hand the person: printed once, never stored by the command. */
function printCredential(credential: IssuedCredential, print: (line: string) => void): void {
  if (credential.kind === 'CREDENTIAL_TEMPORARY_PASSWORD')
    print(
      `temporary password (to be changed at first sign-in, until ${credential.expiresAt ?? ''}): ${credential.temporaryPassword}`,
    );
  else print(`set-password link token (single use, until ${credential.expiresAt ?? ''}): ${credential.linkToken}`);
}

export const need = (value: string | undefined, what: string): string => {
  if (!value) throw new UsageError(`${what} is needed`);
  return value;
};

export const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** Runs `work` signed in to the gateway, and signs out after. */
export async function withGateway(
  env: NodeJS.ProcessEnv,
  flags: PeopleFlags,
  work: (gateway: GatewayClient) => Promise<number>,
): Promise<number> {
  const gateway = await GatewayClient.signIn(env, flags.as);
  try {
    return await work(gateway);
  } finally {
    await gateway.close();
  }
}

/** pnpm passage people <command> … */
export function peopleCommand(
  command: string,
  userId: string | undefined,
  env: NodeJS.ProcessEnv,
  flags: PeopleFlags,
  print: (line: string) => void,
): Promise<number> {
  const person = (): string => need(userId, 'the user id (passage people ' + command + ' USER)');
  const show = (found: Person) => print(formatRows([personRow(found)], personColumns, flags.format));
  return withGateway(env, flags, async (gateway) => {
    switch (command) {
      case 'list': {
        const rows: Row[] = [];
        let cursor = '';
        do {
          const page = await gateway.call<{ people: Person[]; nextCursor: string }>(people, 'ListPeople', {
            agencyId: flags.agency ?? '',
            cursor,
            pageSize: 200,
          });
          rows.push(...page.people.map(personRow));
          cursor = page.nextCursor;
        } while (cursor);
        print(formatRows(rows, personColumns, flags.format));
        return 0;
      }
      case 'create': {
        const made = await gateway.call<{ person: Person; credential: IssuedCredential }>(people, 'CreatePerson', {
          userId: person(),
          displayName: need(flags.name, '--name'),
          email: flags.email ?? '',
          agencyId: flags.agency ?? '',
          roles: list(need(flags.roles, '--roles')),
          language: flags.language ?? '',
          credential: credentialOf(flags.credential),
        });
        show(made.person);
        printCredential(made.credential, print);
        return 0;
      }
      case 'disable': {
        const done = await gateway.call<{ person: Person; sessionsEnded: number }>(people, 'DisablePerson', {
          userId: person(),
        });
        show(done.person);
        print(`sessions ended: ${done.sessionsEnded}`);
        return 0;
      }
      case 'enable':
        show((await gateway.call<{ person: Person }>(people, 'EnablePerson', { userId: person() })).person);
        return 0;
      case 'reset-password': {
        const reset = await gateway.call<{ person: Person; credential: IssuedCredential }>(people, 'ResetPassword', {
          userId: person(),
          credential: credentialOf(flags.credential),
        });
        show(reset.person);
        printCredential(reset.credential, print);
        return 0;
      }
      case 'link-oidc':
      case 'unlink-oidc': {
        const subject = { issuer: need(flags.issuer, '--issuer'), subject: need(flags.subject, '--subject') };
        const method = command === 'link-oidc' ? 'LinkOidcSubject' : 'UnlinkOidcSubject';
        show((await gateway.call<{ person: Person }>(people, method, { userId: person(), subject })).person);
        return 0;
      }
      case 'sessions': {
        const found = await gateway.call<{ sessions: { sessionId: string; createdAt: string; expiresAt: string }[] }>(
          people,
          'ListSessions',
          { userId: person() },
        );
        print(formatRows(found.sessions, ['sessionId', 'createdAt', 'expiresAt'], flags.format));
        return 0;
      }
      case 'end-sessions': {
        const ended = await gateway.call<{ sessionsEnded: number }>(people, 'EndSessions', {
          userId: person(),
          sessionId: flags.session ?? '',
        });
        print(`sessions ended: ${ended.sessionsEnded}`);
        return 0;
      }
      case 'import': {
        // userId here is the file's path: passage people import FILE.
        const csv = readFileSync(need(userId, 'the CSV file (passage people import FILE)'), 'utf8');
        const result = await gateway.call<{
          errors: { line: number; column: string; description: string }[];
          imported: { person: Person; credential: IssuedCredential }[];
          lines: number;
        }>(people, 'ImportPeople', {
          csv,
          dryRun: flags['dry-run'] === true,
          credential: credentialOf(flags.credential),
        });
        if (result.errors.length > 0) {
          print(formatRows(result.errors, ['line', 'column', 'description'], flags.format));
          print(`${result.errors.length} error(s) in ${result.lines} line(s): nobody was imported`);
          return 1;
        }
        if (flags['dry-run'] === true) {
          print(`${result.lines} line(s), no errors: nobody imported (dry run)`);
          return 0;
        }
        print(
          formatRows(
            result.imported.map((i) => personRow(i.person)),
            personColumns,
            flags.format,
          ),
        );
        for (const { person: made, credential } of result.imported) {
          print(`${made.userId}:`);
          printCredential(credential, print);
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command "people ${command}"`);
    }
  });
}

/**
 * pnpm passage agencies onboard AGENCY: its directory listing (UpsertAgency, unless it is
 * listed already: then the listing is kept as it is), then its first supervisor.
 */
export function onboardAgency(
  agencyId: string | undefined,
  env: NodeJS.ProcessEnv,
  flags: PeopleFlags,
  print: (line: string) => void,
): Promise<number> {
  const id = need(agencyId, 'the agency id (passage agencies onboard AGENCY)');
  return withGateway(env, flags, async (gateway) => {
    const listed = await gateway
      .call<{ agency: { id: string } }>(directory, 'GetAgency', { id })
      .then(() => true)
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === 'not_found') return false;
        throw error;
      });
    if (listed) print(`${id}: already in the directory; its listing is kept as it is`);
    else {
      const regions = list(flags.regions);
      await gateway.call(directory, 'UpsertAgency', {
        agency: {
          id,
          nameEn: need(flags['name-en'], '--name-en'),
          nameFr: need(flags['name-fr'], '--name-fr'),
          kind: need(flags.kind, '--kind'),
          services: list(need(flags.services, '--services')),
          coverage: regions.length > 0 ? { regions } : { provinceWide: true },
          languages: list(flags.language ?? 'en'),
          hours: { alwaysOpen: true },
          // Not accepting referrals until the agency sets its own listing (hours, capacity, targets).
          acceptingReferrals: false,
          sla: {
            acknowledgeUrgentMinutes: 60,
            acceptUrgentMinutes: 240,
            acknowledgeStandardMinutes: 480,
            acceptStandardMinutes: 1440,
          },
        },
      });
      print(`${id}: listed in the directory (not accepting referrals until its listing is completed)`);
    }
    const made = await gateway.call<{ person: Person; credential: IssuedCredential }>(people, 'CreatePerson', {
      userId: need(flags.supervisor, '--supervisor USER'),
      displayName: need(flags['supervisor-name'], '--supervisor-name'),
      email: flags['supervisor-email'] ?? '',
      agencyId: id,
      roles: ['supervisor'],
      language: '',
      credential: credentialOf(flags.credential),
    });
    print(formatRows([personRow(made.person)], personColumns, flags.format));
    printCredential(made.credential, print);
    return 0;
  });
}

/** pnpm passage scim create-client AGENCY: a SCIM provisioning client for the agency; its token is printed once. */
export function createScimClient(
  agencyId: string | undefined,
  env: NodeJS.ProcessEnv,
  flags: PeopleFlags,
  print: (line: string) => void,
): Promise<number> {
  const id = need(agencyId, 'the agency id (passage scim create-client AGENCY)');
  return withGateway(env, flags, async (gateway) => {
    const made = await gateway.call<{ clientId: string; agencyId: string; token: string }>(people, 'CreateScimClient', {
      agencyId: id,
    });
    print(`SCIM client ${made.clientId} for ${made.agencyId}: base URL <gateway>/scim/v2`);
    print(`bearer token (shown once): ${made.token}`);
    return 0;
  });
}
