import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { waitFor } from '@passage/testing';
import { ApiUser, consentAndSend } from './console/api.ts';
import { screenshot, seriousViolations, switchTo, widths } from './console/browser.ts';
import { noEnglishOn } from './console/french.ts';
import { openConsole } from './console/open.ts';

// Issue 17, item 2 (ADR 37): the crisis line takes over a referral that escalated, in a real
// browser against the console and every service (openConsole). The escalation is the real one: the
// test moves the acknowledgement timer's due time to now, as console.test.ts does, and the
// escalation service fires it.
const crisisLine = 'Ontario Human Trafficking Crisis Line (24/7)';
const crisisLineFr = 'Ligne d’écoute ontarienne sur la traite des personnes (24 h sur 24)';
const ui = openConsole('consoletakeover');

/** Signed in, in `language` (a demo user's language is kept with the account: set it either way). */
async function signedIn(
  username: string,
  viewport: { width: number; height: number } = widths.desktop,
  language: 'en' | 'fr' = 'en',
): Promise<Page> {
  const page = await ui.as(username, viewport);
  if ((await page.evaluate<string>('document.documentElement.lang')) !== language) await switchTo(page, language);
  return page;
}

/** Peel police refer a person to `to`; the person's consent covers the crisis line too. Then its target passes. */
async function escalatedReferral(to: string, content: string): Promise<string> {
  const officer = await ApiUser.signIn(ui.base, 'peel-officer');
  const { referralId } = await consentAndSend(officer, {
    from: 'peel-regional-police',
    to,
    recipients: [to, 'ontario-ht-crisis-line'],
    needs: ['safety_planning'],
    priority: 'PRIORITY_URGENT',
    content,
  });
  // The test's clock: the acknowledgement timer falls due now instead of in an hour.
  await waitFor(
    async () =>
      (
        await ui.lab.n.sql.query(
          `update escalation.timers set due_at = now() where referral_id = $1 and target = 'acknowledge'`,
          [referralId],
        )
      ).rowCount,
    (updated) => updated === 1,
  );
  await waitFor(
    async () =>
      (await officer.call<{ referral: { escalated?: boolean } }>('GET', `/api/referrals/${referralId}`)).referral
        .escalated === true,
    (escalated) => escalated,
    30_000,
  );
  return referralId;
}

describe('the crisis line takes over an escalated referral', { timeout: 240_000 }, () => {
  it('takes it over from the referral, acknowledges, accepts and closes it; London and Peel see it did', async () => {
    const london = 'London Anti-Human Trafficking Coalition';
    const referralId = await escalatedReferral('london-coalition', 'Synthetic: a safe bed tonight');

    const crisis = await signedIn('crisis-counsellor');
    await crisis.goto(`/referrals/${referralId}`);
    await crisis.getByText('Synthetic: a safe bed tonight').waitFor();
    await crisis.getByText('Escalated: a hand-off target was missed.').waitFor();
    await crisis.getByRole('button', { name: 'Take over', exact: true }).click();
    await crisis.getByText(`${london} can no longer act on it`, { exact: false }).waitFor();
    await screenshot(crisis, 'takeover-confirm-desktop');
    await crisis.getByRole('button', { name: 'Take over this referral' }).click();
    await crisis.getByText('Taken over: your agency is now the recipient.').waitFor();
    await crisis.getByText(new RegExp(`^Taken over by ${escape(crisisLine)} on `)).waitFor();
    // Now the recipient's steps are the crisis line's.
    await crisis.getByRole('button', { name: 'Acknowledge' }).click();
    await crisis.getByText('Saved: Acknowledged.').waitFor();
    await crisis.getByRole('button', { name: 'Accept' }).click();
    await crisis.getByText('Saved: Accepted.').waitFor();
    await crisis.getByRole('button', { name: 'Close', exact: true }).click();
    await crisis.getByLabel('Outcome').selectOption('services_provided');
    await crisis.locator('form.subform').getByRole('button', { name: 'Close', exact: true }).click();
    await crisis.getByText('Saved: Closed.').waitFor();
    // The timeline, step by step: the take-over and the crisis line's own steps.
    const events = crisis.locator('ol.timeline li strong');
    await expect.poll(() => events.count(), { timeout: 15_000 }).toBe(6);
    expect(await events.allTextContents()).toEqual([
      'Sent',
      'Escalated',
      'Taken over by the crisis line',
      'Acknowledged',
      'Accepted',
      'Closed',
    ]);
    // The step names the crisis line (and, since the console knows its own people, the counsellor).
    await crisis
      .locator('ol.timeline li')
      .filter({ hasText: 'Taken over by the crisis line — ' })
      .filter({ hasText: crisisLine })
      .waitFor();
    expect(await seriousViolations(crisis)).toEqual([]);
    await screenshot(crisis, 'takeover-crisis-line-desktop');
    // Its inbox holds what it took over.
    await crisis.getByRole('link', { name: 'Inbox' }).first().click();
    await crisis.getByLabel('Show').selectOption('all');
    await crisis.getByText(`Taken over from ${london}`).first().waitFor();
    await screenshot(crisis, 'takeover-crisis-inbox-desktop');

    // The original recipient reads that it was taken over, and can act no more.
    const intake = await signedIn('london-intake');
    await intake.goto(`/referrals/${referralId}`);
    await intake.getByText(new RegExp(`^Taken over by ${escape(crisisLine)} on `)).waitFor();
    await intake.getByText('The crisis line took this referral over: your agency can no longer act on it.').waitFor();
    await intake.locator('ol.timeline li', { hasText: 'Taken over by the crisis line' }).waitFor();
    const packet = await intake.locator('.packet dd').allTextContents();
    expect(packet.length).toBeGreaterThan(0);
    for (const text of packet) expect(text).toBe('Not shared: the crisis line took this referral over.');
    expect(await intake.locator('.actions button').count()).toBe(0);
    await screenshot(intake, 'takeover-original-recipient-desktop');
    await intake.getByRole('link', { name: 'Inbox' }).first().click();
    await intake.getByLabel('Show').selectOption('all');
    await intake.getByText(`Taken over by ${crisisLine}`).first().waitFor();

    // The sender too, on a phone.
    const officer = await signedIn('peel-officer', widths.phone);
    await officer.goto(`/referrals/${referralId}`);
    await officer.getByText(new RegExp(`^Taken over by ${escape(crisisLine)} on `)).waitFor();
    await officer.locator('ol.timeline li', { hasText: 'Closed' }).waitFor();
    await screenshot(officer, 'takeover-sender-phone');
  });

  it('en français : prise en charge depuis les escalades, sur un téléphone', async () => {
    const referralId = await escalatedReferral('windsor-essex-ahtag', 'Synthétique : un plan de sécurité ce soir');

    const crisis = await signedIn('crisis-counsellor', widths.phone, 'fr');
    await crisis.getByRole('link', { name: 'Escalades' }).click();
    const item = crisis.locator('li.referral', { has: crisis.locator(`a[href="/referrals/${referralId}"]`) });
    await item.waitFor({ timeout: 30_000 });
    await item.getByRole('button', { name: 'Prendre en charge', exact: true }).click();
    await item.getByText('ne pourra plus agir sur cette demande', { exact: false }).waitFor();
    await noEnglishOn(ui.base, crisis, 'takeover-escalations');
    await screenshot(crisis, 'takeover-escalations-fr-phone');
    await item.getByRole('button', { name: 'Prendre en charge cette demande' }).click();
    await crisis.waitForURL(new RegExp(`/referrals/${referralId}$`));
    await crisis.getByText(new RegExp(`^Prise en charge par ${escape(crisisLineFr)} le `)).waitFor();
    await crisis.getByRole('button', { name: 'Accuser réception' }).click();
    await crisis.getByText('Enregistré', { exact: false }).waitFor();
    await crisis.getByRole('button', { name: 'Accepter' }).click();
    await expect.poll(() => crisis.getByRole('button', { name: 'Fermer le dossier' }).count()).toBe(1);
    await crisis.getByRole('button', { name: 'Fermer le dossier' }).click();
    await crisis.locator('form.subform').getByRole('button', { name: 'Fermer le dossier' }).click();
    await crisis.locator('ol.timeline li', { hasText: 'Fermée' }).waitFor();
    await noEnglishOn(ui.base, crisis, 'takeover-referral');
    await screenshot(crisis, 'takeover-crisis-line-fr-phone');

    const intake = await signedIn('windsor-intake', widths.phone, 'fr');
    await intake.goto(`/referrals/${referralId}`);
    await intake.getByText(new RegExp(`^Prise en charge par ${escape(crisisLineFr)} le `)).waitFor();
    await intake
      .getByText('La ligne de crise a pris cette demande en charge : votre organisme ne peut plus agir sur celle-ci.')
      .waitFor();
    await noEnglishOn(ui.base, intake, 'takeover-original-recipient');
    await screenshot(intake, 'takeover-original-recipient-fr-phone');

    const officer = await signedIn('peel-officer', widths.desktop, 'fr');
    await officer.goto(`/referrals/${referralId}`);
    await officer.getByText(new RegExp(`^Prise en charge par ${escape(crisisLineFr)} le `)).waitFor();
    await screenshot(officer, 'takeover-sender-fr-desktop');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
