import { createContext, useContext } from 'react';
import type { Language } from '../api/edge.ts';
import { labels } from './labels.ts';
import { format, messages, type MessageKey } from './messages.ts';

export interface I18n {
  readonly language: Language;
  /** A message in the current language, placeholders filled. */
  readonly t: (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string;
  /** The vocabularies in the current language. */
  readonly l: (typeof labels)[Language];
  /** An agency's name in the current language. */
  readonly agencyName: (id: string | undefined) => string;
  /** "Label: value" as each language writes it (French puts a space before the colon). */
  readonly pair: (label: string, value?: string) => string;
}

export function makeI18n(language: Language, agencies: ReadonlyMap<string, { nameEn: string; nameFr: string }>): I18n {
  return {
    language,
    t: (key, values) => format(messages[language][key], values),
    l: labels[language],
    pair: (label, value = '') => `${label}${language === 'fr' ? '\u00a0:' : ':'} ${value}`,
    agencyName: (id) => {
      if (!id) return '';
      const agency = agencies.get(id);
      return agency ? (language === 'fr' ? agency.nameFr : agency.nameEn) : id;
    },
  };
}

export const I18nContext = createContext<I18n>(makeI18n('en', new Map()));
export const useI18n = (): I18n => useContext(I18nContext);
