import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { labels, messages } from '@passage/console/i18n';
import { ApiUser } from './api.ts';
import { textInPageLanguage } from './browser.ts';

/**
 * A French screen shows no English: none of the console's English phrases that French writes
 * differently, no agency's English name, no common English word, and no raw code
 * (`in_contact`, `services_provided`) where a label belongs. `base`: the gateway's address.
 */
export async function noEnglishOn(base: string, page: Page, screen: string): Promise<void> {
  const admin = await ApiUser.signIn(base, 'admin');
  const { agencies } = await admin.call<{ agencies: { nameEn: string; nameFr: string }[] }>('GET', '/api/agencies');
  const english = [...englishOnlyStrings(), ...agencies.filter((a) => a.nameEn !== a.nameFr).map((a) => a.nameEn)];
  expect(await page.evaluate<string>('document.documentElement.lang')).toBe('fr');
  const text = await textInPageLanguage(page);
  const found = english.filter((phrase) => text.includes(phrase));
  // An agency's French name is what a French screen shows, even where it keeps English words ("Walk With Me").
  const withoutNames = agencies.reduce((rest, a) => rest.replaceAll(a.nameFr, ''), text);
  const words = [
    ...withoutNames.matchAll(/\b(the|and|with|your|from|referral|inbox|please|sign out|sent|new)\b/gi),
  ].map((m) => m[0]);
  const codes = [...text.matchAll(/\b[a-z]+(?:_[a-z]+)+\b|\bSTATE_[A-Z_]+\b/g)].map((m) => m[0]);
  expect({ screen, found, words, codes }).toEqual({ screen, found: [], words: [], codes: [] });
}

/** Every English word of the console that French writes differently: none may show on a French screen. */
export function englishOnlyStrings(): string[] {
  const phrases = new Set<string>();
  const pairs: [string, string | undefined][] = Object.entries(messages.en).map(([key, english]) => [
    english,
    messages.fr[key as keyof typeof messages.fr],
  ]);
  const tables = labels.en as unknown as Record<string, Record<string, string>>;
  const frTables = labels.fr as unknown as Record<string, Record<string, string>>;
  for (const [table, entries] of Object.entries(tables))
    for (const [code, english] of Object.entries(entries)) pairs.push([english, frTables[table]?.[code]]);
  for (const [english, french] of pairs) {
    // Placeholders split a message into the fixed parts a screen would show.
    for (const part of english.split(/\{\w+\}/)) {
      const phrase = part.trim().replace(/[.:,]$/, '');
      if (phrase.length >= 4 && phrase !== french && !(french ?? '').includes(phrase)) phrases.add(phrase);
    }
  }
  return [...phrases];
}
