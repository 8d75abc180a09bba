import type { directory } from '@passage/contracts';
import { PassageError, callUnary } from '@passage/platform';
import type { DeskDirectory } from '../../app/notifications.ts';

/**
 * An agency's intake desk address: the directory's contact e-mail for the agency (GetAgency, a
 * public method), kept a minute.
 */
export class DirectoryDesks implements DeskDirectory {
  readonly #client: directory.DirectoryServiceClient;
  readonly #recent = new Map<string, { at: number; email: string | undefined }>();

  constructor(client: directory.DirectoryServiceClient) {
    this.#client = client;
  }

  async deskAddress(agencyId: string): Promise<string | undefined> {
    const held = this.#recent.get(agencyId);
    if (held && Date.now() - held.at < 60_000) return held.email;
    let email: string | undefined;
    try {
      const answer = await callUnary(this.#client.getAgency.bind(this.#client), { id: agencyId }, undefined, 5000);
      email = answer.agency?.contact?.email || undefined;
    } catch (error) {
      if (!(error instanceof PassageError && error.code === 'not_found')) throw error;
    }
    this.#recent.set(agencyId, { at: Date.now(), email });
    return email;
  }
}
