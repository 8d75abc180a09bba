import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { docPath, renderedDoc, settingsTables, undocumented } from './settings-doc.ts';

it('every setting in the services’ schemas has a meaning (a doc comment in its config.ts)', () => {
  expect(undocumented()).toEqual([]);
});

it('docs/operations.md holds the settings tables as the schemas make them (pnpm gen)', async () => {
  const current = readFileSync(docPath, 'utf8');
  const tables = settingsTables();
  expect(tables).toMatch(/\| `PASSAGE_KEK` +\| production \|/);
  expect(await renderedDoc(current, tables)).toBe(current);
});
