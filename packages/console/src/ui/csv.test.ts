import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';

describe('CSV export', () => {
  it('quotes what needs quoting and never lets a cell run as a formula', () => {
    expect(
      toCsv(
        ['group', 'n'],
        [
          ['=HYPERLINK("x")', 3],
          ['a, b', -2],
          ['+1', '@x'],
          ['plain', 0],
        ],
      ),
    ).toBe('group,n\r\n"\'=HYPERLINK(""x"")",3\r\n"a, b",-2\r\n\'+1,\'@x\r\nplain,0\r\n');
  });
});
