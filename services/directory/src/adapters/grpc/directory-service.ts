import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { directory as pb } from '@passage/contracts';
import { bearerToken, bindService, type Logger, type ServiceBinding } from '@passage/platform';
import type { DirectoryUseCases } from '../../app/directory.ts';
import { anonymousCaller, type Caller } from '../../app/ports.ts';
import { agencyToWire, listingFromWire, matchToWire, priorityFromWire } from './mapping.ts';

export const directoryServiceName = 'passage.directory.v1.DirectoryService';

/**
 * Until packages/auth issues signed identities, the one privileged caller is whoever
 * presents the configured service admin token.
 */
export function callerFrom(metadata: Metadata, adminToken: string | undefined): Caller {
  const token = bearerToken(metadata);
  if (!adminToken || !token) return anonymousCaller;
  const given = Buffer.from(token);
  const expected = Buffer.from(adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return anonymousCaller;
  return { userId: 'service-admin', agencyId: '', roles: ['admin'] };
}

export function directoryService(
  useCases: DirectoryUseCases,
  adminToken: string | undefined,
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
          callerFrom(metadata, adminToken),
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
        imported: await useCases.importHsds(callerFrom(metadata, adminToken), request.json),
      }),
    },
    log,
  );
}
