import { describe, expect, it } from 'vitest';
import { violationText } from './field-problems.tsx';

describe('a refused value’s reason', () => {
  it('is the service’s own words in English, and French for French readers', () => {
    expect(violationText('at most 200 characters', 'en')).toBe('at most 200 characters');
    expect(violationText('at most 200 characters', 'fr')).toBe('au plus 200 caractères');
    expect(violationText('required', 'fr')).toBe('obligatoire');
    expect(violationText('an urgent target of at most a week (10080 minutes)', 'fr')).toBe(
      'un délai urgent d’au plus une semaine',
    );
    expect(violationText('one of en, fr', 'fr')).toBe('l’une des valeurs en, fr');
    expect(violationText('above your own role: auditor', 'fr')).toBe('au-dessus de votre propre rôle');
    expect(violationText('a password of 12 to 200 characters', 'fr')).toBe('un mot de passe de 12 à 200 caractères');
  });

  it('says what the identifier pattern means rather than the pattern', () => {
    const pattern = 'must match pattern "^[a-z0-9]+(-[a-z0-9]+)*$"';
    expect(violationText(pattern, 'en')).toBe('an id of lowercase letters and digits, in hyphenated words');
    expect(violationText(pattern, 'fr')).toMatch(/^un identifiant de lettres minuscules/);
    expect(violationText('must match pattern "^([a-z0-9]+(-[a-z0-9]+)*)?$"', 'en')).toBe(
      'an id of lowercase letters and digits, in hyphenated words',
    );
  });

  it('never shows English to a French reader, even for a reason it does not know', () => {
    expect(violationText('something new the service says', 'fr')).toBe('valeur refusée : vérifiez ce champ');
  });
});
