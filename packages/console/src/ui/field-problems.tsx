import { createContext, useContext, type ReactNode } from 'react';
import { ApiError } from '../api/client.ts';
import type { Language } from '../api/edge.ts';
import { useI18n } from '../i18n/context.tsx';

// The fields a refused request named, by JSON pointer into what the form sent (RFC 9457
// `errors`): the inputs that hold them are marked invalid and show the reason beside them.
const FieldProblems = createContext<readonly { pointer: string; detail: string }[]>([]);

export function FieldProblemsProvider({ error, children }: { error: unknown; children: ReactNode }): ReactNode {
  const problems =
    error instanceof ApiError
      ? error.errors.flatMap((e) => (e.pointer !== undefined ? [{ pointer: e.pointer, detail: e.detail }] : []))
      : [];
  return <FieldProblems.Provider value={problems}>{children}</FieldProblems.Provider>;
}

/** The reason the field at `pointer` (or anything inside it) was refused, in the reader's language. */
export function useFieldProblem(pointer: string | undefined): string | undefined {
  const problems = useContext(FieldProblems);
  const { language } = useI18n();
  if (pointer === undefined) return undefined;
  const found = problems.find((p) => p.pointer === pointer || p.pointer.startsWith(`${pointer}/`));
  return found ? violationText(found.detail, language) : undefined;
}

/** The services' reasons are in English; French readers get them in French where they are known. */
export function violationText(detail: string, language: Language): string {
  if (language === 'en') return detail;
  const rules: [RegExp, (m: RegExpExecArray) => string][] = [
    [/^required(: choose one)?$/, () => 'obligatoire'],
    [/^at least one is needed$/, () => 'au moins un est nécessaire'],
    [/^at least (\d+) are needed$/, (m) => `au moins ${m[1]} sont nécessaires`],
    [/^at most (\d+) characters$/, (m) => `au plus ${m[1]} caractères`],
    [/^at most (\d+)$/, (m) => `au plus ${m[1]}`],
    [/^at least (-?\d+)$/, (m) => `au moins ${m[1]}`],
    [/^a UUID$/, () => 'un identifiant UUID'],
    [/^one line: no line breaks or tabs$/, () => 'une seule ligne : ni saut de ligne ni tabulation'],
    [/^one of (.+)$/, (m) => `l’une des valeurs ${m[1]}`],
    [/^control characters and bidirectional overrides are not accepted$/, () => 'caractères de contrôle refusés'],
    [/^an urgent target of at most a week/, () => 'un délai urgent d’au plus une semaine'],
    [/^a date/, () => 'une date et une heure valides (années 1 à 9999)'],
  ];
  for (const [pattern, french] of rules) {
    const match = pattern.exec(detail);
    if (match) return french(match);
  }
  return 'valeur refusée : vérifiez ce champ';
}
