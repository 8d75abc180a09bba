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
export function violationText(raw: string, language: Language): string {
  // The edge's schema check names the identifier pattern, not what it means.
  const detail =
    raw.startsWith('must match pattern') && raw.includes('[a-z0-9]+(-[a-z0-9]+)*')
      ? 'an id of lowercase letters and digits, in hyphenated words'
      : raw;
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
    [
      /^an id of lowercase letters and digits/,
      () => 'un identifiant de lettres minuscules et de chiffres, mots séparés par des tirets',
    ],
    [/^a password of 12 to 200 characters$/, () => 'un mot de passe de 12 à 200 caractères'],
    [/^the two passwords differ$/, () => 'les deux mots de passe diffèrent'],
    [/^wrong password$/, () => 'mot de passe erroné'],
    [/^choose a password other than the current one$/, () => 'choisissez un autre mot de passe que l’actuel'],
    [/^unknown, used or expired$/, () => 'inconnu, déjà utilisé ou expiré'],
    [/^taken: choose another/, () => 'déjà pris : choisissez-en un autre'],
    [/^above your own role: (.+)$/, () => 'au-dessus de votre propre rôle'],
    [/^not your agency/, () => 'pas votre organisme : vous gérez seulement le personnel du vôtre'],
    [/^not a role a person may hold/, () => 'un rôle qu’une personne ne peut pas avoir'],
    [/^a person needs a role$/, () => 'une personne a besoin d’un rôle'],
    [/^holds a role above yours/, () => 'a un rôle au-dessus du vôtre : demandez à l’administrateur du ministère'],
    [/^is you/, () => 'c’est vous : un autre administrateur doit le faire'],
    [/^the last active administrator/, () => 'le dernier administrateur actif : nommez-en un autre d’abord'],
    [/^keeps admin/, () => 'garde le rôle administrateur : c’est le dernier administrateur actif'],
    [/^linked to another person/, () => 'lié à une autre personne : déliez-le d’abord là-bas'],
    [/^not linked to this person$/, () => 'pas lié à cette personne'],
    [/^not an open session of this person$/, () => 'pas une session ouverte de cette personne'],
    [/^no such person$/, () => 'personne introuvable'],
  ];
  for (const [pattern, french] of rules) {
    const match = pattern.exec(detail);
    if (match) return french(match);
  }
  return 'valeur refusée : vérifiez ce champ';
}
