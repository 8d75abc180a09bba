import { describe, expect, it } from 'vitest';
import { declineSuggestions } from './decline-model.ts';

describe('suggesting another agency when declining', () => {
  it('offers support agencies only: not police, not the Crown, not the two on the referral', () => {
    const agencies = [
      { id: 'a-police', kind: 'police' },
      { id: 'a-crown', kind: 'crown' },
      { id: 'a-shelter', kind: 'shelter' },
      { id: 'a-coalition', kind: 'coalition' },
      { id: 'a-from', kind: 'first_response' },
      { id: 'a-to', kind: 'victim_services' },
    ];
    const offered = declineSuggestions(agencies, { fromAgency: 'a-from', toAgency: 'a-to' }).map((a) => a.id);
    expect(offered).not.toHaveLength(0);
    expect(offered).toEqual(['a-shelter', 'a-coalition']);
  });
});
