import { describe, expect, it } from 'vitest';
import { ontarioAgencies } from '../seed/ontario.ts';
import type { Agency } from './agency.ts';
import { checkMatchRequest, match, type MatchRequest } from './matching.ts';

const directory: Agency[] = ontarioAgencies.map((listing) => ({ ...listing, version: 1 }));

// Toronto is UTC-5 in winter: 08:00Z on Tuesday 2026-12-01 is 03:00 local.
const tuesday3am = new Date('2026-12-01T08:00:00Z');
// 15:00Z is 10:00 local, a weekday morning.
const tuesday10am = new Date('2026-12-01T15:00:00Z');

function run(request: Partial<MatchRequest>) {
  const full: MatchRequest = { needs: ['counselling'], priority: 'standard', at: tuesday10am, ...request };
  const input = checkMatchRequest(full);
  if (!input.ok) throw new Error(JSON.stringify(input.violations.list));
  return match(directory, input.needs, input.place, input.language, full.priority, full.at);
}

describe('Match', () => {
  it('ranks the 24/7 crisis line first in London at 3 a.m.', () => {
    const result = run({ municipality: 'london', at: tuesday3am });
    expect(result.afterHours).toBe(true);
    expect(result.candidates[0]?.agency.id).toBe('ontario-ht-crisis-line');
    expect(result.candidates[0]?.reasons).toContain('open 24/7');
    const london = result.passedOver.find((p) => p.agencyId === 'london-coalition');
    expect(london?.reasons).toEqual(['closed_at_that_hour']);
  });

  it('ranks the London coalition first in London on a weekday morning', () => {
    const result = run({ municipality: 'london' });
    expect(result.afterHours).toBe(false);
    expect(result.candidates.map((c) => c.agency.id)).toEqual(['london-coalition', 'ontario-ht-crisis-line']);
  });

  it('gives a French speaker in Ottawa PACT-Ottawa', () => {
    const result = run({ municipality: 'ottawa', language: 'fr' });
    expect(result.candidates[0]?.agency.id).toBe('pact-ottawa');
    expect(result.candidates[0]?.reasons).toEqual(
      expect.arrayContaining(['covers ottawa', 'speaks fr', 'offers counselling', 'open now']),
    );
  });

  it('passes over agencies that do not share the language', () => {
    const result = run({ municipality: 'london', language: 'fr' });
    expect(result.passedOver.find((p) => p.agencyId === 'london-coalition')?.reasons).toEqual(['no_shared_language']);
    expect(result.candidates[0]?.agency.id).toBe('ontario-ht-crisis-line');
  });

  it('never returns a police service or the Crown for a counselling need, anywhere, at any hour', () => {
    for (const municipality of ['toronto', 'brampton', 'london', 'ottawa', 'windsor', 'sarnia']) {
      for (const at of [tuesday3am, tuesday10am]) {
        const result = run({ municipality, at });
        const ids = [...result.candidates.map((c) => c.agency.id), ...result.passedOver.map((p) => p.agencyId)];
        expect(ids).not.toContain('opp');
        expect(ids).not.toContain('peel-regional-police');
        expect(ids).not.toContain('toronto-police-service');
        expect(ids).not.toContain('crown-ht-specialists');
      }
    }
  });

  it('reaches the Sarnia-Lambton committee from a Sarnia FSA', () => {
    const result = run({ fsa: 'n7t' });
    expect(result.place).toEqual({ region: 'sarnia-lambton', municipality: 'sarnia', fsa: 'N7T' });
    expect(result.candidates[0]?.agency.id).toBe('sarnia-lambton-committee');
  });

  it('reaches Walk With Me at night in Peel, ahead of the provincial line', () => {
    const result = run({ fsa: 'L6T', needs: ['first_response'], at: tuesday3am });
    expect(result.candidates.map((c) => c.agency.id)).toEqual(['walk-with-me']);
  });

  it('serves an unmapped Ontario FSA with province-wide agencies', () => {
    const result = run({ fsa: 'P7B' });
    expect(result.place.region).toBe('ontario');
    expect(result.candidates.map((c) => c.agency.id)).toEqual(['ontario-ht-crisis-line']);
  });

  it('passes over an agency that stopped accepting referrals', () => {
    const closed = directory.map((a) => (a.id === 'pact-ottawa' ? { ...a, acceptingReferrals: false } : a));
    const input = checkMatchRequest({
      needs: ['counselling'],
      municipality: 'ottawa',
      priority: 'standard',
      at: tuesday10am,
    });
    if (!input.ok) throw new Error('bad request');
    const result = match(closed, input.needs, input.place, input.language, 'standard', tuesday10am);
    expect(result.passedOver.find((p) => p.agencyId === 'pact-ottawa')?.reasons).toEqual(['not_accepting']);
  });
});

describe('Match input', () => {
  const base: MatchRequest = { needs: ['counselling'], municipality: 'london', priority: 'standard', at: tuesday10am };

  it('names an unknown need', () => {
    const input = checkMatchRequest({ ...base, needs: ['counselling', 'astrology'] });
    expect(input.ok).toBe(false);
    if (!input.ok) expect(input.violations.list.map((v) => v.field)).toEqual(['needs[1]']);
  });

  it('refuses investigation as a support need', () => {
    const input = checkMatchRequest({ ...base, needs: ['investigation'] });
    expect(!input.ok && input.violations.list[0]?.field).toBe('needs[0]');
  });

  it.each(['N7', 'N7TT', '7NT', 'NNN', 'N7-T'])('names a malformed FSA %s', (fsa) => {
    const input = checkMatchRequest({ ...base, municipality: '', fsa });
    expect(!input.ok && input.violations.list.map((v) => v.field)).toEqual(['fsa']);
  });

  it('refuses an FSA outside Ontario', () => {
    const input = checkMatchRequest({ ...base, municipality: '', fsa: 'V6B' });
    expect(!input.ok && input.violations.list[0]?.description).toContain('outside Ontario');
  });

  it('asks for a place when none is given', () => {
    const input = checkMatchRequest({ ...base, municipality: '' });
    expect(!input.ok && input.violations.list[0]?.field).toBe('municipality');
  });
});
