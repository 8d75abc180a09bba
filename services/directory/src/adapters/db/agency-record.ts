import { defineEntity, p } from '@mikro-orm/core';
import type { AgencyListing } from '../../domain/agency.ts';

/** One row per agency: the listing as JSON, with kind and version as columns for queries and concurrency. */
export const AgencyRecord = defineEntity({
  name: 'AgencyRecord',
  tableName: 'agencies',
  properties: {
    id: p.string().primary(),
    kind: p.string(),
    listing: p.json<Omit<AgencyListing, 'id'>>(),
    version: p.integer(),
    updatedAt: p.datetime(),
  },
});
