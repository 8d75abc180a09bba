import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isPassageError } from '@passage/platform';
import { personRoles } from '../../domain/people.ts';
import type { AdminCaller, People, PersonRecord } from '../../app/people.ts';

/**
 * SCIM 2.0 provisioning (RFC 7643, RFC 7644) of an agency's people, for its identity
 * provider: `/scim/v2/Users` and `/scim/v2/Groups` (a group is a role). A client is made by
 * the administrator (CreateScimClient) for one agency and calls with its bearer token; it acts
 * as that agency's supervisor, under the same rules and audit as the HTTP API (ADR 30). SCIM
 * has its own JSON, so these routes are written here rather than generated from the proto.
 */
const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';
const groupSchema = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const listSchema = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const patchSchema = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const errorSchema = 'urn:ietf:params:scim:api:messages:2.0:Error';
const scimType = 'application/scim+json; charset=utf-8';

const userAttributes = new Set([
  'schemas',
  'id',
  'externalid',
  'username',
  'displayname',
  'name',
  'emails',
  'active',
  'roles',
  'preferredlanguage',
  'meta',
]);
const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A SCIM error (RFC 7644 §3.12), as the handler throws it. */
class ScimError extends Error {
  readonly status: number;
  readonly scimType: string | undefined;

  constructor(status: number, detail: string, type?: string) {
    super(detail);
    this.status = status;
    this.scimType = type;
  }
}

const statusOf: Record<string, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
};

function sendError(reply: FastifyReply, status: number, detail: string, type?: string): FastifyReply {
  return reply
    .code(status)
    .type(scimType)
    .send({ schemas: [errorSchema], status: String(status), ...(type ? { scimType: type } : {}), detail });
}

function userOf(person: PersonRecord) {
  return {
    schemas: [userSchema],
    id: person.userId,
    userName: person.userId,
    displayName: person.displayName,
    emails: person.email ? [{ value: person.email, primary: true }] : [],
    active: person.disabledAt === undefined,
    roles: person.roles.map((value) => ({ value })),
    preferredLanguage: person.language,
    meta: {
      resourceType: 'User',
      created: person.createdAt.toISOString(),
      location: `/scim/v2/Users/${person.userId}`,
    },
  };
}

const listOf = (resources: unknown[], startIndex = 1) => ({
  schemas: [listSchema],
  totalResults: resources.length,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
});

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ScimError(400, 'the body must be a JSON object', 'invalidSyntax');
  return body as Record<string, unknown>;
}

function text(value: unknown, attribute: string, max: number): string {
  if (typeof value !== 'string' || value.length > max || /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u.test(value))
    throw new ScimError(400, `${attribute}: a line of text of at most ${max} characters`, 'invalidValue');
  return value;
}

function primaryEmail(value: unknown): string {
  if (!Array.isArray(value)) throw new ScimError(400, 'emails: a list of {value, primary}', 'invalidValue');
  const emails = value as { value?: unknown; primary?: unknown }[];
  const chosen = emails.find((e) => e.primary === true) ?? emails[0];
  return chosen ? text(chosen.value, 'emails.value', 254) : '';
}

function rolesOf(value: unknown): string[] {
  if (!Array.isArray(value)) throw new ScimError(400, 'roles: a list of {value}', 'invalidValue');
  const roles = (value as { value?: unknown }[]).map((r) => (typeof r.value === 'string' ? r.value : ''));
  const unknown = roles.filter((r) => !(personRoles as readonly string[]).includes(r));
  if (unknown.length > 0) throw new ScimError(400, `roles: unknown role ${unknown.join(', ')}`, 'invalidValue');
  return roles;
}

function activeOf(value: unknown): boolean {
  // Some providers send booleans as text ("False").
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimError(400, 'active: true or false', 'invalidValue');
}

/** The attributes of a User body we take, refusing any we do not know. */
function userBody(body: unknown) {
  const user = asObject(body);
  for (const key of Object.keys(user))
    if (!userAttributes.has(key.toLowerCase()) && !key.startsWith('urn:'))
      throw new ScimError(400, `unknown attribute "${key}"`, 'invalidSyntax');
  const get = (name: string) => Object.entries(user).find(([k]) => k.toLowerCase() === name)?.[1];
  const displayName = get('displayname') ?? (get('name') as { formatted?: unknown } | undefined)?.formatted;
  return {
    userName: get('username'),
    displayName: displayName === undefined ? undefined : text(displayName, 'displayName', 200),
    email: get('emails') === undefined ? undefined : primaryEmail(get('emails')),
    roles: get('roles') === undefined ? undefined : rolesOf(get('roles')),
    active: get('active') === undefined ? undefined : activeOf(get('active')),
    language:
      get('preferredlanguage') === 'fr'
        ? ('fr' as const)
        : get('preferredlanguage') === 'en'
          ? ('en' as const)
          : undefined,
  };
}

/** `userName eq "value"` (or `displayName eq` for groups): the one filter supported. */
function equalityFilter(filter: string, attribute: string): string {
  const match = /^\s*([A-Za-z.:]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  if (!match || match[1]!.toLowerCase() !== attribute.toLowerCase())
    throw new ScimError(400, `only the filter ${attribute} eq "…" is supported`, 'invalidFilter');
  return match[2]!.replace(/\\(.)/g, '$1');
}

export async function registerScim(app: FastifyInstance, people: People): Promise<void> {
  await app.register(
    // eslint-disable-next-line @typescript-eslint/require-await -- Fastify takes an async plugin
    async (scim) => {
      // SCIM is described by its RFCs, not by the Passage API's OpenAPI document.
      scim.addHook('onRoute', (options) => {
        options.schema = { ...options.schema, hide: true };
      });
      scim.addContentTypeParser('application/scim+json', { parseAs: 'string' }, (_r, body, done) => {
        try {
          done(null, body === '' ? {} : JSON.parse(body as string));
        } catch {
          done(new ScimError(400, 'the body is not JSON', 'invalidSyntax'), undefined);
        }
      });
      scim.setErrorHandler((error, _request, reply) => {
        if (error instanceof ScimError) return sendError(reply, error.status, error.message, error.scimType);
        if (isPassageError(error)) {
          const status = statusOf[error.code] ?? 500;
          const type =
            error.code === 'already_exists'
              ? 'uniqueness'
              : error.code === 'invalid_argument'
                ? 'invalidValue'
                : undefined;
          const detail = [error.message, ...error.violations.map((v) => `${v.field}: ${v.description}`)].join('; ');
          return sendError(reply, status, status === 500 ? 'something went wrong on our side' : detail, type);
        }
        const statusCode = (error as { statusCode?: number }).statusCode;
        if (statusCode && statusCode >= 400 && statusCode < 500)
          return sendError(reply, statusCode, (error as Error).message);
        return sendError(reply, 500, 'something went wrong on our side');
      });
      scim.addHook('onRequest', async (request: FastifyRequest) => {
        const header = request.headers.authorization ?? '';
        const token = /^Bearer (.+)$/i.exec(header)?.[1] ?? '';
        const caller = await people.scimCaller(token);
        if (!caller) throw new ScimError(401, 'a SCIM client bearer token is needed');
        request.scimCaller = caller;
      });
      const callerOf = (request: FastifyRequest): AdminCaller => request.scimCaller!;
      const reply201 = (reply: FastifyReply, body: unknown) => reply.code(201).type(scimType).send(body);
      const reply200 = (reply: FastifyReply, body: unknown) => reply.code(200).type(scimType).send(body);

      /** One of the client's agency's people, or 404 (another agency's person is not there for it). */
      const personOf = async (caller: AdminCaller, id: string): Promise<PersonRecord> => {
        try {
          return await people.get(caller, id);
        } catch (error) {
          if (isPassageError(error) && (error.code === 'permission_denied' || error.code === 'not_found'))
            throw new ScimError(404, `no user ${id}`);
          throw error;
        }
      };
      const everyone = async (caller: AdminCaller): Promise<PersonRecord[]> => {
        const found: PersonRecord[] = [];
        let cursor = '';
        do {
          const page = await people.list(caller, caller.agencyId, cursor, 200);
          found.push(...page.people);
          cursor = page.nextCursor;
        } while (cursor);
        return found;
      };
      /** Makes the person's attributes what the body says (PUT and PATCH). */
      const apply = async (
        caller: AdminCaller,
        person: PersonRecord,
        change: { displayName?: string; email?: string; roles?: string[]; active?: boolean },
      ) => {
        const update = {
          ...(change.displayName !== undefined && change.displayName !== person.displayName
            ? { displayName: change.displayName }
            : {}),
          ...(change.email !== undefined && change.email !== person.email ? { email: change.email } : {}),
          ...(change.roles !== undefined && change.roles.join() !== person.roles.join() ? { roles: change.roles } : {}),
        };
        if (Object.keys(update).length > 0) await people.update(caller, person.userId, update);
        if (change.active === false && person.disabledAt === undefined) await people.disable(caller, person.userId);
        if (change.active === true && person.disabledAt !== undefined) await people.enable(caller, person.userId);
        return personOf(caller, person.userId);
      };

      scim.post('/Users', async (request, reply) => {
        const caller = callerOf(request);
        const user = userBody(request.body);
        if (typeof user.userName !== 'string' || !slug.test(user.userName) || user.userName.length > 100)
          throw new ScimError(
            400,
            'userName: lowercase letters and digits in hyphenated words, at most 100',
            'invalidValue',
          );
        // Provisioned people sign in with the identity provider; their password is random until a reset.
        const { person } = await people.create(
          caller,
          {
            userId: user.userName,
            displayName: user.displayName ?? user.userName,
            email: user.email ?? '',
            agencyId: caller.agencyId,
            // With no role given, the agency's front-line role.
            roles: user.roles && user.roles.length > 0 ? user.roles : ['intake_worker'],
            language: user.language ?? 'en',
          },
          'link',
        );
        const done = user.active === false ? await apply(caller, person, { active: false }) : person;
        return reply201(reply, userOf(done));
      });
      scim.get('/Users', async (request, reply) => {
        const caller = callerOf(request);
        const query = request.query as { filter?: string; startIndex?: string; count?: string };
        if (query.filter !== undefined) {
          const userName = equalityFilter(query.filter, 'userName');
          const found = await personOf(caller, userName).catch((error: unknown) => {
            if (error instanceof ScimError && error.status === 404) return undefined;
            throw error;
          });
          return reply200(reply, listOf(found ? [userOf(found)] : []));
        }
        const start = Math.max(1, Number(query.startIndex ?? 1) || 1);
        const count = Math.min(200, Math.max(0, Number(query.count ?? 100) || 0));
        const all = await everyone(caller);
        const page = all.slice(start - 1, start - 1 + count).map(userOf);
        return reply200(reply, { ...listOf(page, start), totalResults: all.length });
      });
      scim.get('/Users/:id', async (request, reply) =>
        reply200(reply, userOf(await personOf(callerOf(request), (request.params as { id: string }).id))),
      );
      scim.put('/Users/:id', async (request, reply) => {
        const caller = callerOf(request);
        const person = await personOf(caller, (request.params as { id: string }).id);
        const user = userBody(request.body);
        if (user.userName !== undefined && user.userName !== person.userId)
          throw new ScimError(400, 'userName cannot change', 'mutability');
        const { displayName, email, roles, active } = user;
        return reply200(
          reply,
          userOf(
            await apply(caller, person, {
              ...(displayName !== undefined ? { displayName } : {}),
              email: email ?? '',
              ...(roles !== undefined ? { roles } : {}),
              ...(active !== undefined ? { active } : {}),
            }),
          ),
        );
      });
      scim.patch('/Users/:id', async (request, reply) => {
        const caller = callerOf(request);
        const person = await personOf(caller, (request.params as { id: string }).id);
        const body = asObject(request.body);
        const operations = body['Operations'] ?? body['operations'];
        if (
          !Array.isArray(body['schemas']) ||
          !(body['schemas'] as unknown[]).includes(patchSchema) ||
          !Array.isArray(operations)
        )
          throw new ScimError(400, `a PatchOp: schemas [${patchSchema}] and Operations`, 'invalidSyntax');
        const change: { displayName?: string; email?: string; active?: boolean; roles?: string[] } = {};
        const set = (path: string, value: unknown) => {
          switch (path.toLowerCase()) {
            case 'active':
              change.active = activeOf(value);
              return;
            case 'displayname':
              change.displayName = text(value, 'displayName', 200);
              return;
            case 'emails':
              change.email = primaryEmail(value);
              return;
            case 'roles':
              change.roles = rolesOf(value);
              return;
            default:
              throw new ScimError(400, `unknown or read-only attribute "${path}"`, 'invalidPath');
          }
        };
        for (const operation of operations as { op?: unknown; path?: unknown; value?: unknown }[]) {
          const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
          if (op !== 'replace' && op !== 'add')
            throw new ScimError(400, `op "${String(operation.op)}": replace or add`, 'invalidValue');
          if (typeof operation.path === 'string') set(operation.path, operation.value);
          else for (const [path, value] of Object.entries(asObject(operation.value))) set(path, value);
        }
        return reply200(reply, userOf(await apply(caller, person, change)));
      });
      // Deprovisioning: the account is disabled (sessions and feeds end), never erased — the audit
      // log names it. A deleted user still answers GET, with active false.
      scim.delete('/Users/:id', async (request, reply) => {
        const caller = callerOf(request);
        const person = await personOf(caller, (request.params as { id: string }).id);
        await apply(caller, person, { active: false });
        return reply.code(204).send();
      });

      const groupOf = (role: string, members: PersonRecord[]) => ({
        schemas: [groupSchema],
        id: role,
        displayName: role,
        members: members.filter((p) => p.roles.includes(role)).map((p) => ({ value: p.userId, display: p.userId })),
        meta: { resourceType: 'Group', location: `/scim/v2/Groups/${role}` },
      });
      const roleOf = (id: string): string => {
        if (!(personRoles as readonly string[]).includes(id)) throw new ScimError(404, `no group ${id}`);
        return id;
      };
      scim.get('/Groups', async (request, reply) => {
        const caller = callerOf(request);
        const query = request.query as { filter?: string };
        const all = await everyone(caller);
        const roles =
          query.filter === undefined
            ? [...personRoles]
            : [...personRoles].filter((r) => r === equalityFilter(query.filter!, 'displayName'));
        return reply200(reply, listOf(roles.map((role) => groupOf(role, all))));
      });
      scim.get('/Groups/:id', async (request, reply) => {
        const caller = callerOf(request);
        const role = roleOf((request.params as { id: string }).id);
        return reply200(reply, groupOf(role, await everyone(caller)));
      });
      // Membership changes are role changes: add or remove members (by user id).
      scim.patch('/Groups/:id', async (request, reply) => {
        const caller = callerOf(request);
        const role = roleOf((request.params as { id: string }).id);
        const body = asObject(request.body);
        const operations = body['Operations'] ?? body['operations'];
        if (!Array.isArray(operations)) throw new ScimError(400, 'a PatchOp with Operations', 'invalidSyntax');
        for (const operation of operations as { op?: unknown; path?: unknown; value?: unknown }[]) {
          const op = typeof operation.op === 'string' ? operation.op.toLowerCase() : '';
          const path = typeof operation.path === 'string' ? operation.path : '';
          const inPath = /^members\[value eq "([^"]+)"\]$/i.exec(path)?.[1];
          if (!inPath && path.toLowerCase() !== 'members')
            throw new ScimError(400, `unknown or read-only attribute "${path}"`, 'invalidPath');
          const ids = inPath
            ? [inPath]
            : Array.isArray(operation.value)
              ? (operation.value as { value?: unknown }[]).map((m) => (typeof m.value === 'string' ? m.value : ''))
              : [];
          if (op !== 'add' && op !== 'remove')
            throw new ScimError(400, `op "${String(operation.op)}": add or remove`, 'invalidValue');
          for (const id of ids) {
            const person = await personOf(caller, id);
            const roles = op === 'add' ? [...new Set([...person.roles, role])] : person.roles.filter((r) => r !== role);
            if (roles.join() !== person.roles.join()) await people.update(caller, id, { roles });
          }
        }
        return reply200(reply, groupOf(role, await everyone(caller)));
      });
    },
    { prefix: '/scim/v2' },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    scimCaller?: AdminCaller;
  }
}
