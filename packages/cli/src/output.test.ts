import { describe, expect, it } from 'vitest';
import { duration, formatRows } from './output.ts';

describe('command output', () => {
  const rows = [
    { agency: 'london-coalition', referrals: 12, note: 'a, "quoted" value' },
    { agency: 'pact-ottawa', referrals: 3, note: '' },
  ];

  it('aligns a table, numbers to the right', () => {
    expect(formatRows(rows, ['agency', 'referrals'], 'table')).toBe(
      [
        'agency            referrals',
        '────────────────  ─────────',
        'london-coalition         12',
        'pact-ottawa               3',
      ].join('\n'),
    );
  });

  it('quotes CSV cells that need it', () => {
    expect(formatRows(rows, ['agency', 'note'], 'csv')).toBe(
      'agency,note\nlondon-coalition,"a, ""quoted"" value"\npact-ottawa,',
    );
  });

  it('defuses CSV cells a spreadsheet would run as a formula (OWASP CSV injection)', () => {
    const names = ['=HYPERLINK("x")', '+1+2', '-2+3', '@SUM(A1)', '\tlead', '\rlead', 'plain'];
    const csv = formatRows(
      names.map((name) => ({ name, count: -3 })),
      ['name', 'count'],
      'csv',
    );
    expect(csv.split('\n').slice(1, 4)).toEqual([`"'=HYPERLINK(""x"")",-3`, "'+1+2,-3", "'-2+3,-3"]);
    expect(csv).toContain("'@SUM(A1),-3");
    expect(csv).toContain("'\tlead,-3");
    expect(csv).toContain('"\'\rlead",-3');
    expect(csv).toContain('\nplain,-3');
  });

  it('reads durations the way people say them', () => {
    expect([duration(30, 1), duration(600, 1), duration(5400, 1), duration(3 * 86400, 1), duration(0, 0)]).toEqual([
      '30s',
      '10m',
      '1.5h',
      '3.0d',
      '—',
    ]);
  });
});
