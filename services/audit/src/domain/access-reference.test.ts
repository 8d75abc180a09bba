import { describe, expect, it } from 'vitest';
import { PassageError } from '@passage/errors';
import { formatReference } from '@passage/vocabulary';
import { parseAccessReference } from './access-reference.ts';

describe('what an auditor may type to find an access log', () => {
  it('tells a referral id, a receipt reference and a short referral reference apart', () => {
    const id = '0193A3B4-7C1D-7E2F-8A9B-0C1D2E3F4A5B';
    expect(parseAccessReference(` ${id} `)).toEqual({ kind: 'referral', value: id.toLowerCase() });
    expect(parseAccessReference('9f3a 27c1')).toEqual({ kind: 'receipt', value: '9F3A27C1' });
    const reference = formatReference(123_456);
    expect(parseAccessReference(reference)).toEqual({ kind: 'referral_reference', value: reference });
    // As typed off a screen or a phone call: lower case, spaces, an O for a 0.
    const typed = reference.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o');
    expect(parseAccessReference(typed)).toEqual({ kind: 'referral_reference', value: reference });
  });

  it('refuses anything else, naming the field', () => {
    for (const raw of ['', 'R-7K3M', 'DROP TABLE', '9F3A27C1Z', 'R-UUUU-UU']) {
      try {
        parseAccessReference(raw);
        expect.unreachable(`accepted ${raw}`);
      } catch (error) {
        expect(error).toBeInstanceOf(PassageError);
        expect((error as PassageError).violations[0]?.field).toBe('reference');
      }
    }
  });
});
