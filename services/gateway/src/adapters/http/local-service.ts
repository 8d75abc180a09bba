import { ruleViolations, type ApiContract } from '@passage/contracts';
import { PassageError } from '@passage/platform';
import type { LocalService, LocalSession } from './api-routes.ts';

/** A unary method of a generated grpc-js service definition. */
interface UnaryDefinition {
  readonly path: string;
  readonly requestDeserialize: (bytes: Buffer) => unknown;
  readonly responseSerialize: (value: never) => Buffer;
}

/** One handler per method: the decoded request and who calls, to the response. */
export type LocalHandlers<D extends Record<string, UnaryDefinition>> = {
  [K in keyof D]: (
    request: ReturnType<D[K]['requestDeserialize']>,
    session: LocalSession | undefined,
  ) => Promise<Parameters<D[K]['responseSerialize']>[0]>;
};

/**
 * A service the gateway implements in its own process (people administration, notifications,
 * webhooks): the generated routes reach it as they reach a remote service (api-routes.ts), and,
 * as bindService does for every service, each request meets its field rules first.
 */
export function localService<D extends Record<string, UnaryDefinition>>(
  serviceName: string,
  definition: D,
  handlers: LocalHandlers<D>,
  contract: ApiContract,
): LocalService {
  const byName = new Map(
    Object.entries(definition).map(([key, method]) => [
      method.path.split('/').at(-1)!,
      { key, method, input: contract.methodOf(method.path)?.input },
    ]),
  );
  return {
    local: true,
    async unary(name, bytes, session) {
      const found = byName.get(name);
      if (!found) throw new PassageError('not_found', `${serviceName} has no method ${name}`);
      const request = found.method.requestDeserialize(Buffer.from(bytes));
      const refused = found.input ? ruleViolations(contract, found.input, request) : [];
      if (refused.length > 0) throw PassageError.invalid(refused);
      const handler = handlers[found.key] as (r: unknown, s: LocalSession | undefined) => Promise<unknown>;
      const answer = await handler(request, session);
      return (found.method.responseSerialize as (value: unknown) => Buffer)(answer);
    },
  };
}

/** The signed-in caller, or 401. */
export function signedIn(session: LocalSession | undefined): LocalSession['record']['user'] {
  if (!session) throw new PassageError('unauthenticated', 'sign in first');
  return session.record.user;
}
