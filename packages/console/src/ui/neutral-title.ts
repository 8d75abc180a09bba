/**
 * Every page of the console has this one title (ADR 19, console safety): a title goes into the
 * browser's history and tab list, where someone watching the person or the worker can read it,
 * so it never names a screen ("Referral", "Incoming referrals") or anything about a person.
 * Each screen still says what it is in its focused heading, which screen readers announce.
 */
export const neutralTitle = 'Passage';
