import { PassageError } from '@passage/errors';
import { checkCreate, type Actor } from './people.ts';

/** The columns of a people CSV, in any order; the header names them. */
export const importColumns = ['user_id', 'display_name', 'email', 'agency_id', 'roles', 'language'] as const;
const requiredColumns = ['user_id', 'display_name', 'roles'] as const;

export interface ImportError {
  /** The line of the file (the header is line 1). */
  readonly line: number;
  readonly column: string;
  readonly description: string;
}

export interface ImportRow {
  readonly line: number;
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
  readonly language: 'en' | 'fr';
}

const slug = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const unsafe = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const email = /^[^\s@]+@[^\s@]+$/;

/** RFC 4180 records, each with the line it starts on; quoted fields may hold commas, quotes and line breaks. */
export function csvRecords(text: string): { line: number; fields: string[] }[] | ImportError {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let afterQuote = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
        afterQuote = true;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '' && !afterQuote) quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
      afterQuote = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      fields.push(field);
      if (fields.some((f) => f !== '') || fields.length > 1) records.push({ line: start, fields });
      fields = [];
      field = '';
      afterQuote = false;
      line++;
      start = line;
    } else if (afterQuote) return { line, column: '', description: 'text after a closing quote' };
    else field += c;
  }
  if (quoted) return { line: start, column: '', description: 'a quoted field is never closed' };
  fields.push(field);
  if (fields.some((f) => f !== '') || fields.length > 1) records.push({ line: start, fields });
  return records;
}

/**
 * Every error of a people CSV, by line, against what the actor may do (their agency, the roles
 * they grant) and the user ids already taken; and the rows, when there is none.
 */
export function checkImport(
  text: string,
  actor: Actor,
  taken: ReadonlySet<string>,
): { rows: ImportRow[]; errors: ImportError[]; lines: number } {
  const records = csvRecords(text);
  if (!Array.isArray(records)) return { rows: [], errors: [records], lines: 0 };
  const [header, ...lines] = records;
  if (!header) return { rows: [], errors: [{ line: 1, column: '', description: 'the file is empty' }], lines: 0 };
  const names = header.fields.map((name) => name.trim().toLowerCase());
  const errors: ImportError[] = [];
  for (const name of names)
    if (!(importColumns as readonly string[]).includes(name))
      errors.push({ line: header.line, column: name, description: `not a column: ${importColumns.join(', ')}` });
  for (const name of requiredColumns)
    if (!names.includes(name)) errors.push({ line: header.line, column: name, description: 'a required column' });
  if (errors.length > 0) return { rows: [], errors, lines: lines.length };
  const rows: ImportRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of lines) {
    const at = (column: string) => (fields[names.indexOf(column)] ?? '').trim();
    const refuse = (column: string, description: string) => errors.push({ line, column, description });
    if (fields.length !== names.length) refuse('', `${fields.length} fields where the header has ${names.length}`);
    const userId = at('user_id');
    const displayName = at('display_name');
    const address = at('email');
    const agencyId = at('agency_id') || actor.agencyId;
    const roles = at('roles').split(/\s+/).filter(Boolean);
    const language = at('language') || 'en';
    for (const [column, value] of Object.entries({ userId, displayName, address }))
      if (unsafe.test(value)) refuse(column, 'control characters and bidirectional overrides are not accepted');
    if (!slug.test(userId) || userId.length > 100)
      refuse('user_id', 'lowercase letters and digits in hyphenated words, at most 100');
    else if (taken.has(userId)) refuse('user_id', 'taken: someone has this user id already');
    else if (seen.has(userId)) refuse('user_id', `also on line ${seen.get(userId)}`);
    else seen.set(userId, line);
    if (!displayName || displayName.length > 200) refuse('display_name', 'required, at most 200 characters');
    if (address && (address.length > 254 || !email.test(address))) refuse('email', 'an email address');
    if (!slug.test(agencyId) || agencyId.length > 100) refuse('agency_id', 'an agency id (a slug)');
    if (roles.length === 0) refuse('roles', 'at least one role, separated by spaces');
    if (language !== 'en' && language !== 'fr') refuse('language', 'en or fr');
    try {
      checkCreate(actor, agencyId, roles);
    } catch (error) {
      if (!(error instanceof PassageError)) throw error;
      refuse(error.violations[0]?.field ?? 'roles', error.violations[0]?.description ?? error.message);
    }
    rows.push({ line, userId, displayName, email: address, agencyId, roles, language: language as 'en' | 'fr' });
  }
  if (lines.length === 0) errors.push({ line: 2, column: '', description: 'no people after the header' });
  return { rows: errors.length === 0 ? rows : [], errors, lines: lines.length };
}

/** The user ids a CSV names (to look up which are taken), whatever the column's place. */
export function importUserIds(text: string): string[] {
  const records = csvRecords(text);
  if (!Array.isArray(records) || !records[0]) return [];
  const at = records[0].fields.map((name) => name.trim().toLowerCase()).indexOf('user_id');
  return at < 0 ? [] : records.slice(1).map((record) => (record.fields[at] ?? '').trim());
}
