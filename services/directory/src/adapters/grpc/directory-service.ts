import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import type { TokenVerifier } from '@passage/auth';
import { directory as pb } from '@passage/contracts';
import { bearerToken, bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
import type { DirectoryUseCases } from '../../app/directory.ts';
import { anonymousCaller, type Caller } from '../../app/ports.ts';
import { agencyToWire, listingFromWire, matchToWire, priorityFromWire } from './mapping.ts';

export const directoryServiceName = 'passage.directory.v1.DirectoryService';
/** What the server announces when it opens, before the handlers are ready. */
export const directoryContract: ServiceContract = {
  name: directoryServiceName,
  definition: pb.DirectoryServiceService,
};

/**
 * A signed caller token (packages/auth) when the service has verification keys; otherwise,
 * or for a token that is not one, the configured service admin token (docs/adr/0008).
 * Reads need no identity; an unidentified caller simply has no role.
 */
export function callerFrom(metadata: Metadata, adminToken: string | undefined, verifier?: TokenVerifier): Caller {
  const token = bearerToken(metadata);
  if (!token) return anonymousCaller;
  if (verifier && token.includes('.')) {
    try {
      return verifier.verify(token);
    } catch {
      return anonymousCaller;
    }
  }
  if (!adminToken) return anonymousCaller;
  const given = Buffer.from(token);
  const expected = Buffer.from(adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return anonymousCaller;
  return { userId: 'service-admin', agencyId: '', roles: ['admin'] };
}

export function directoryService(
  useCases: DirectoryUseCases,
  adminToken: string | undefined,
  verifier: TokenVerifier | undefined,
  log: Logger,
): ServiceBinding {
  return bindService<pb.DirectoryServiceServer>(
    directoryServiceName,
    pb.DirectoryServiceService,
    {
      listAgencies: async (request) => ({
        agencies: (
          await useCases.listAgencies({
            kind: request.kind,
            region: request.region,
            service: request.service,
            language: request.language,
          })
        ).map(agencyToWire),
      }),
      getAgency: async (request) => ({ agency: agencyToWire(await useCases.getAgency(request.id)) }),
      upsertAgency: async (request, { metadata }) => {
        const { agency, created } = await useCases.upsertAgency(
          callerFrom(metadata, adminToken, verifier),
          listingFromWire(request.agency),
        );
        return { agency: agencyToWire(agency), created };
      },
      match: async (request) =>
        matchToWire(
          await useCases.match({
            needs: request.needs,
            municipality: request.municipality,
            fsa: request.fsa,
            language: request.language,
            priority: priorityFromWire(request.priority),
            at: request.at ?? new Date(),
          }),
        ),
      exportHsds: async () => ({ json: await useCases.exportHsds() }),
      importHsds: async (request, { metadata }) => ({
        imported: await useCases.importHsds(callerFrom(metadata, adminToken, verifier), request.json),
      }),
    },
    log,
  );
}
