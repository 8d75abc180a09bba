import { describe, expect, it } from 'vitest';
import { coveredPlaces, labels, statisticsOutcomeLabel } from './labels.ts';

describe('console vocabulary', () => {
  it('names the statistics outcomes in words, never as codes', () => {
    expect(statisticsOutcomeLabel(labels.en, 'closed:services_provided')).toBe('Closed: Services provided');
    expect(statisticsOutcomeLabel(labels.fr, 'closed:services_provided')).toBe('Fermée\u00a0: Services offerts');
    expect(statisticsOutcomeLabel(labels.en, 'declined')).toBe('Declined');
    expect(statisticsOutcomeLabel(labels.fr, 'withdrawn')).toBe('Retirée');
    expect(statisticsOutcomeLabel(labels.en, 'open')).toBe('Still open');
    // An outcome the console does not know yet shows as it came, never blank.
    expect(statisticsOutcomeLabel(labels.en, 'closed:something_new')).toBe('Closed: something_new');
  });

  it('names each place an agency covers once', () => {
    expect(coveredPlaces(labels.en, ['toronto'], ['toronto'])).toEqual(['Toronto']);
    expect(coveredPlaces(labels.en, ['peel', 'toronto'], ['toronto', 'mississauga'])).toEqual([
      'Peel',
      'Toronto',
      'Mississauga',
    ]);
    expect(coveredPlaces(labels.fr, [], undefined)).toEqual([]);
  });
});
