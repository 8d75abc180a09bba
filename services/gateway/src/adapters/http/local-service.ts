import { ruleViolations, type ApiContract } from '@passage/contracts';
import { PassageError } from '@passage/platform';
import type { LocalClient, LocalService, LocalSession } from './api-routes.ts';

/** One unary method of a ts-proto grpc-js service definition. */
interface UnaryMethod {
  readonly path: string;
  requestDeserialize(bytes: Buffer): unknown;
  // ts-proto's serializers take the method's own response type.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  responseSerialize(value: any): Buffer;
}

/** A handler per method of the definition, given the request and what the session stands for. */
export type LocalHandlers<D extends Record<string, UnaryMethod>, C> = {
  [K in keyof D]: (
    request: ReturnType<D[K]['requestDeserialize']>,
    context: C,
  ) => Promise<Parameters<D[K]['responseSerialize']>[0]>;
};

/**
 * A service the gateway implements in its own process (PeopleService, ADR 30; NotificationService,
 * ADR 40; IntegrationClientService, ADR 45): the generated routes reach it as they reach a remote
 * service (api-routes.ts, LocalService), and, as bindService does for every service, each request
 * meets its field rules first. `contextOf`: who is calling, from the session or, on a route that
 * names role system, the integration client (it refuses none).
 */
export function localService<D extends Record<string, UnaryMethod>, C>(
  name: string,
  definition: D,
  contract: ApiContract,
  handlers: LocalHandlers<D, C>,
  contextOf: (session: LocalSession | undefined, client: LocalClient | undefined) => C,
): LocalService {
  const byName = new Map(
    Object.entries(definition).map(([key, method]) => [
      method.path.split('/').at(-1)!,
      { key, method, input: contract.methodOf(method.path)?.input },
    ]),
  );
  return {
    local: true,
    async unary(method, bytes, session, caller) {
      const found = byName.get(method);
      if (!found) throw new PassageError('not_found', `${name} has no method ${method}`);
      const context = contextOf(session, caller);
      const request = found.method.requestDeserialize(Buffer.from(bytes));
      const refused = found.input ? ruleViolations(contract, found.input, request) : [];
      if (refused.length > 0) throw PassageError.invalid(refused);
      const handler = handlers[found.key] as (request: unknown, context: C) => Promise<unknown>;
      return found.method.responseSerialize(await handler(request, context));
    },
  };
}
