import { describe, expect, it } from 'vitest';
import { checkImport, csvRecords } from './people-import.ts';

const admin = { userId: 'admin', agencyId: 'passage-oversight', roles: ['admin'] };
const supervisor = {
  userId: 'london-supervisor',
  agencyId: 'london-coalition',
  roles: ['supervisor', 'intake_worker'],
};

describe('people CSV', () => {
  it('reads quoted fields with commas, quotes and line breaks, keeping each record’s line', () => {
    expect(csvRecords('a,b\r\n"x, ""y""",z\n"multi\nline",w\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, "y"', 'z'] },
      { line: 3, fields: ['multi\nline', 'w'] },
    ]);
  });

  it('takes a good file whole', () => {
    const { rows, errors } = checkImport(
      'user_id,display_name,email,agency_id,roles,language\n' +
        'a-one,"Synthetic, One",one@example.test,london-coalition,intake_worker,en\n' +
        'a-two,Synthetic Two,,pact-ottawa,intake_worker supervisor,fr\n',
      admin,
      new Set(),
    );
    expect(errors).toEqual([]);
    expect(rows.map((r) => [r.line, r.userId, r.roles])).toEqual([
      [2, 'a-one', ['intake_worker']],
      [3, 'a-two', ['intake_worker', 'supervisor']],
    ]);
  });

  it('lists every error by line and column, and then gives no rows', () => {
    const { rows, errors } = checkImport(
      'user_id,display_name,agency_id,roles\n' +
        'Bad Id,Synthetic,london-coalition,intake_worker\n' +
        'ok-one,Synthetic,windsor-essex-ahtag,intake_worker\n' +
        'ok-two,Synthetic,london-coalition,admin\n' +
        'london-intake,Synthetic,london-coalition,intake_worker\n' +
        'ok-three,,london-coalition,intake_worker\n' +
        'ok-three,Synthetic,london-coalition,\n',
      supervisor,
      new Set(['london-intake']),
    );
    expect(rows).toEqual([]);
    expect(errors.map((e) => `${e.line}:${e.column}`)).toEqual([
      '2:user_id',
      '3:agency_id',
      '4:roles',
      '5:user_id',
      '6:display_name',
      '7:user_id',
      '7:roles',
    ]);
  });

  it('refuses an unknown or missing column in the header', () => {
    const { errors } = checkImport('user_id,shoe_size\nx,9\n', admin, new Set());
    expect(errors.map((e) => e.column)).toEqual(['shoe_size', 'display_name', 'roles']);
  });
});
