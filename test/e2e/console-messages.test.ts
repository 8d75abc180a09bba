import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ApiUser } from './console/api.ts';
import { screenshot, seriousViolations, switchTo, widths } from './console/browser.ts';
import { noEnglishOn } from './console/french.ts';
import { openConsole } from './console/open.ts';

// Messages on a referral and the decline's reason for the sender (issue 17 item 6, ADR 39), in
// a real browser against the console and every service (openConsole): the receiving agency asks a
// question in the referral's thread, the sender sees it arrive live (no reload) and answers,
// the receiving agency declines with a reason for the sender and an internal note; the sender
// reads the reason, never the note. In English and in French. Synthetic words only.
const ui = openConsole('console-messages');

/**
 * The crisis line refers a person to London. Consent lets London read the needs and the
 * situation, and lets the crisis line read the situation too: without the fix, the crisis
 * line would have been shown London's internal note.
 */
async function referralFromCrisisLine(needs: string): Promise<string> {
  const counsellor = await ApiUser.signIn(ui.base, 'crisis-counsellor');
  const consent = await counsellor.call<{ subjectRef: string }>('POST', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: 'en',
    expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    scopes: [
      {
        recipientAgencyIds: ['london-coalition'],
        purposes: ['referral'],
        categories: ['needs', 'situation'],
        doNotContact: false,
      },
      {
        recipientAgencyIds: ['ontario-ht-crisis-line'],
        purposes: ['referral'],
        categories: ['situation'],
        doNotContact: false,
      },
    ],
  });
  const { referral } = await counsellor.call<{ referral: { id: string } }>('POST', '/api/referrals', {
    subjectRef: consent.subjectRef,
    fromAgency: 'ontario-ht-crisis-line',
    toAgency: 'london-coalition',
    priority: 'PRIORITY_STANDARD',
    needs: ['counselling'],
    language: 'en',
    packet: [{ category: 'needs', content: needs }],
  });
  return referral.id;
}

/** Writes in the thread and waits for the page to show it sent. */
async function write(page: Page, label: string, button: string, text: string): Promise<void> {
  await page.getByLabel(label).fill(text);
  await page.locator('.thread form').getByRole('button', { name: button }).click();
  await page.locator('.thread-list li', { hasText: text }).waitFor();
}

/** Screenshots of the page at 1280 and 390 px wide, then back to the desktop width. */
async function both(page: Page, name: string): Promise<void> {
  await screenshot(page, `${name}-1280`);
  await page.setViewportSize(widths.phone);
  await page.locator('.thread').waitFor();
  await screenshot(page, `${name}-390`);
  await page.setViewportSize(widths.desktop);
}

const copy = {
  en: {
    compose: 'Write to the other agency',
    send: 'Send message',
    decline: 'Decline',
    forSender: 'Reason for the sender',
    internal: 'Internal note',
    reasonShown: 'Reason given for the decline',
    question: 'Synthetic question: does she need an interpreter for the first call?',
    answer: 'Synthetic answer: yes, Arabic; she prefers a woman.',
    reason: 'Synthetic reason: no Arabic-speaking counsellor this month; Windsor has one.',
    note: 'Synthetic internal note Qpx: our waitlist is closed until March',
    saved: /^Saved: Declined\.$/,
  },
  fr: {
    compose: 'Écrire à l’autre organisme',
    send: 'Envoyer le message',
    decline: 'Refuser',
    forSender: 'Motif pour l’organisme expéditeur',
    internal: 'Note interne',
    reasonShown: 'Motif donné pour le refus',
    question: 'Question fictive : faut-il un interprète pour le premier appel ?',
    answer: 'Réponse fictive : oui, en arabe ; elle préfère une intervenante.',
    reason: 'Motif fictif : aucune intervenante arabophone ce mois-ci ; Windsor en a une.',
    note: 'Note interne fictive Zvk : liste d’attente fermée jusqu’en mars',
    saved: /^Enregistré\s:\sRefusée\.$/,
  },
} as const;

describe('messages on a referral, and the reason for the sender', { timeout: 240_000 }, () => {
  for (const language of ['en', 'fr'] as const) {
    it(`the recipient asks, the sender answers live, the decline's reason reaches the sender and the internal note does not (${language})`, async () => {
      const words = copy[language];
      const referralId = await referralFromCrisisLine(
        language === 'fr' ? 'Besoin fictif : soutien' : 'Synthetic need: support',
      );
      const intake = await ui.as('london-intake');
      const counsellor = await ui.as('crisis-counsellor');
      if (language === 'fr') {
        await switchTo(intake, 'fr');
        await switchTo(counsellor, 'fr');
      }
      await intake.goto(`/referrals/${referralId}`);
      await counsellor.goto(`/referrals/${referralId}`);
      await intake.locator('.thread').waitFor();
      await counsellor.locator('.thread').waitFor();

      // London asks; the crisis line's open page shows it without a reload, then answers.
      await write(intake, words.compose, words.send, words.question);
      await counsellor.locator('.thread-list li', { hasText: words.question }).waitFor();
      await write(counsellor, words.compose, words.send, words.answer);
      await intake.locator('.thread-list li', { hasText: words.answer }).waitFor();
      const thread = await intake.locator('.thread-list li').allTextContents();
      expect(thread).toHaveLength(2);
      expect(thread[0]).toContain(words.question);
      expect(thread[1]).toContain(words.answer);
      await both(counsellor, `messages-thread-${language}`);

      // London declines: a reason for the sender, and an internal note of its own.
      await intake.getByRole('button', { name: words.decline, exact: true }).click();
      await intake.getByLabel(words.forSender).fill(words.reason);
      await intake.getByLabel(words.internal).fill(words.note);
      await both(intake, `messages-decline-form-${language}`);
      await intake.locator('form.subform').getByRole('button', { name: words.decline }).click();
      await intake.getByText(words.saved).waitFor();
      // London keeps reading its own note; the reason is in the thread it shares.
      await intake.locator('.facts', { hasText: words.note }).waitFor();
      await intake.locator('.thread-list li', { hasText: words.reason }).waitFor();

      // The crisis line's page, still open, shows the reason: in the facts and in the thread.
      await counsellor.locator('.facts', { hasText: words.reasonShown }).waitFor();
      await expect.poll(() => counsellor.locator('.facts').textContent()).toContain(words.reason);
      await counsellor.locator('.thread-list li', { hasText: words.reason }).waitFor();
      await counsellor.reload();
      await counsellor.locator('.thread-list li', { hasText: words.reason }).waitFor();
      expect(await counsellor.content()).not.toContain(words.note);
      // Nor does the API give the sender the note.
      const asSender = await ApiUser.signIn(ui.base, 'crisis-counsellor');
      expect(await asSender.raw('GET', `/api/referrals/${referralId}`)).not.toContain(words.note);
      expect(await asSender.raw('GET', `/api/referrals/${referralId}/messages`)).toContain(words.reason);
      await both(counsellor, `messages-declined-sender-${language}`);
      await both(intake, `messages-declined-recipient-${language}`);

      expect(await seriousViolations(counsellor)).toEqual([]);
      if (language === 'fr') {
        await noEnglishOn(ui.base, counsellor, 'referral with messages, sender (fr)');
        await noEnglishOn(ui.base, intake, 'referral with messages, recipient (fr)');
      }
    });
  }
});
