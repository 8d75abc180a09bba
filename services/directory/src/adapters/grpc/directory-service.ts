import { authenticate, type TokenVerifier } from '@passage/auth';
import { directory as pb } from '@passage/contracts';
import { bindService, type Logger, type ServiceBinding, type ServiceContract } from '@passage/platform';
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
 * Reading the directory needs no identity (the escalation service and the console's match
 * ask anonymously); a change needs a signed caller token with the admin role (ADR 8 retired:
 * no static admin token).
 */
export function directoryService(useCases: DirectoryUseCases, verifier: TokenVerifier, log: Logger): ServiceBinding {
  return bindService<pb.DirectoryServiceServer, Caller>(
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
      upsertAgency: async (request, { caller }) => {
        const { agency, created } = await useCases.upsertAgency(caller, listingFromWire(request.agency));
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
      importHsds: async (request, { caller }) => ({
        imported: await useCases.importHsds(caller, request.json),
      }),
    },
    log,
    {
      authenticate: (metadata) => authenticate(metadata, verifier),
      publicMethods: ['ListAgencies', 'GetAgency', 'Match', 'ExportHsds'],
      anonymous: anonymousCaller,
    },
  );
}
