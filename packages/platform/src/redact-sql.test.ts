import { describe, expect, it } from 'vitest';
import { redactSqlLiterals } from './redact-sql.ts';

describe('redactSqlLiterals', () => {
  it('removes string, escape-string, dollar-quoted and numeric literals', () => {
    expect(
      redactSqlLiterals(
        `insert into "directory"."agencies" ("id", "listing", "version") values ('pact-ottawa', '{"phone":"+1-555-0109","note":"it''s"}', 12)`,
      ),
    ).toBe(`insert into "directory"."agencies" ("id", "listing", "version") values (?, ?, ?)`);
    expect(redactSqlLiterals(`select E'\\\\x0a24', $$Jane Doe$$, $tag$613-555-0199$tag$`)).toBe('select ?, ?, ?');
    expect(redactSqlLiterals(`update t set n = -4.5 where id = 7`)).toBe('update t set n = ? where id = ?');
  });

  it('keeps identifiers that contain digits', () => {
    expect(redactSqlLiterals(`select "a0".* from t_trace_d24a8114.x2 as "a0" limit 1`)).toBe(
      `select "a0".* from t_trace_d24a8114.x2 as "a0" limit ?`,
    );
  });
});
