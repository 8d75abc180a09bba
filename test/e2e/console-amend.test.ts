import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ApiUser, consentAndSend } from './console/api.ts';
import { screenshot, seriousViolations, widths } from './console/browser.ts';
import { noEnglishOn } from './console/french.ts';
import { openConsole } from './console/open.ts';

// Issue 17 item 3 (ADR 36), in a real browser against the console and every service (openConsole):
// a referral declined by one agency, the resend to the agency it suggested refused because the
// person's consent does not cover it, the consent amended with the person right there (receipt
// version 2, English and French), the resend going through and the new agency reading it; then
// that agency, which the consent now covers, records the person's withdrawal. All data synthetic.
const ui = openConsole('consoleamend');

/** The page at both widths the issue asks for, each screenshot saved and checked by axe. */
async function shoot(page: Page, name: string): Promise<string[]> {
  const problems: string[] = [];
  for (const [label, size] of [
    ['1280', widths.desktop],
    ['390', widths.phone],
  ] as const) {
    await page.setViewportSize(size);
    problems.push(...(await seriousViolations(page)).map((v) => `${name} @${label}: ${v}`));
    await screenshot(page, `${name}-${label}`);
  }
  await page.setViewportSize(widths.desktop);
  return problems;
}

/** A referral from `sender` to the London coalition under consent naming London only, declined with a suggestion. */
async function declinedWithSuggestion(sender: string, from: string, suggested: string, content: string) {
  const { referralId } = await consentAndSend(await ApiUser.signIn(ui.base, sender), {
    from,
    to: 'london-coalition',
    needs: ['housing'],
    content,
  });
  const london = await ApiUser.signIn(ui.base, 'london-intake');
  await london.call('POST', `/api/referrals/${referralId}/decline`, {
    reason: 'no_capacity',
    suggestedAgency: suggested,
  });
  return referralId;
}

async function useLanguage(page: Page, language: 'English' | 'Français'): Promise<void> {
  const button = page.getByRole('button', { name: new RegExp(language) });
  if (await button.isVisible()) await button.click();
  await expect
    .poll(() => page.evaluate<string>('document.documentElement.lang'))
    .toBe(language === 'English' ? 'en' : 'fr');
}

describe('amending consent where a resend needs it', { timeout: 420_000 }, () => {
  it('English: resend refused, consent amended inline, receipt version 2, resent; the new agency records the withdrawal', async () => {
    const pactName = 'PACT-Ottawa (Persons Against the Crime of Trafficking in Humans)';
    const declinedId = await declinedWithSuggestion(
      'peel-officer',
      'peel-regional-police',
      'pact-ottawa',
      'Synthetic: housing near Ottawa',
    );
    const problems: string[] = [];

    const officer = await ui.as('peel-officer');
    await useLanguage(officer, 'English');
    await officer.goto(`/referrals/${declinedId}`);
    await officer.getByRole('button', { name: `Resend to ${pactName}` }).click();
    // Not "the referral's current state… Reload": what is wrong, and what to do about it.
    await officer.getByText(`The person’s consent does not cover ${pactName}.`).waitFor();
    expect(await officer.content()).not.toContain('current state');
    const form = officer.getByRole('form', { name: `Amend the consent with the person: add ${pactName}` });
    await form.waitFor();
    // The categories the declined referral carried are offered, ticked.
    expect(await form.getByLabel('Needs', { exact: true }).isChecked()).toBe(true);
    problems.push(...(await shoot(officer, 'amend-consent-form')));

    await form.getByRole('button', { name: `Add ${pactName} to the consent` }).click();
    await officer.getByText(`Consent amended with the person: ${pactName} added. This is receipt version 2.`).waitFor();
    const receipt = officer.locator('pre.receipt-text');
    await expect
      .poll(() => receipt.textContent(), { timeout: 30_000, interval: 250 })
      .toMatch(/Version 2, updated on .+\. It replaces the earlier versions\./);
    expect(await receipt.textContent()).toMatch(/you also agreed, by telling us, to the following:\s+• PACT-Ottawa/);
    await officer.getByLabel('Receipt language').selectOption('fr');
    await expect
      .poll(() => receipt.textContent(), { timeout: 30_000, interval: 250 })
      .toMatch(/Version 2, mise à jour le .+\. Elle remplace les versions précédentes\./);
    expect(await receipt.getAttribute('lang')).toBe('fr');
    problems.push(...(await shoot(officer, 'amend-consent-receipt-v2')));

    // The sender's consent card shows what was added, and when.
    await officer
      .locator('.consent li', { hasText: 'PACT-Ottawa' })
      .getByText(/added on/)
      .waitFor();

    await officer.getByRole('button', { name: `Resend to ${pactName}` }).click();
    await officer.waitForURL(
      (url) => /\/referrals\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(declinedId),
    );
    const resentId = new URL(officer.url()).pathname.split('/').at(-1)!;
    await officer.getByRole('heading', { name: `Referral: Peel Regional Police → ${pactName}` }).waitFor();

    // The new agency reads it, and is told which consent it reads under.
    const pact = await ui.as('pact-intake');
    await useLanguage(pact, 'English');
    await pact.goto(`/referrals/${resentId}`);
    await pact.getByText('Synthetic: housing near Ottawa').waitFor();
    const card = pact.locator('.card', { hasText: 'The person’s consent' });
    await card.getByText(/You read this referral under the person’s consent, reference [0-9A-F]{8}\./).waitFor();
    await card.getByRole('button', { name: 'Record the person’s withdrawal' }).click();
    await card.getByRole('group', { name: 'Confirm the person’s withdrawal' }).waitFor();
    problems.push(...(await shoot(pact, 'amend-record-withdrawal')));
    await card.getByRole('button', { name: 'Record the withdrawal now' }).click();
    await pact.getByText('The person’s withdrawal is recorded. Sharing has stopped.').waitFor();

    // The network withdraws the referral that rested on it; the sender sees it withdrawn.
    const sender = await ApiUser.signIn(ui.base, 'peel-officer');
    await expect
      .poll(
        async () =>
          (await sender.call<{ referral: { state: string; reason: string } }>('GET', `/api/referrals/${resentId}`))
            .referral,
        { timeout: 30_000, interval: 500 },
      )
      .toMatchObject({ state: 'STATE_WITHDRAWN', reason: 'consent_revoked' });
    expect(problems).toEqual([]);
  });

  it('French: the same, with no English on screen', async () => {
    const windsorFr = 'Groupe d’action contre la traite des personnes de Windsor-Essex';
    const declinedId = await declinedWithSuggestion(
      'crisis-counsellor',
      'ontario-ht-crisis-line',
      'windsor-essex-ahtag',
      'Synthétique : logement à Windsor',
    );
    const problems: string[] = [];
    const counsellor = await ui.as('crisis-counsellor');
    const windsor = await ui.as('windsor-intake');
    try {
      await useLanguage(counsellor, 'Français');
      await counsellor.goto(`/referrals/${declinedId}`);
      await counsellor.getByRole('button', { name: `Renvoyer à ${windsorFr}` }).click();
      await counsellor.getByText(`Le consentement de la personne ne couvre pas ${windsorFr}.`).waitFor();
      const form = counsellor.getByRole('form', {
        name: `Modifier le consentement avec la personne\u00a0: ajouter ${windsorFr}`,
      });
      await form.waitFor();
      await noEnglishOn(ui.base, counsellor, 'amend form');
      problems.push(...(await shoot(counsellor, 'amend-consent-form-fr')));
      await form.getByRole('button', { name: `Ajouter ${windsorFr} au consentement` }).click();
      await counsellor.getByText(/Consentement modifié avec la personne.+Voici le reçu, version 2\./).waitFor();
      const receipt = counsellor.locator('pre.receipt-text');
      await counsellor.getByLabel('Langue du reçu').selectOption('fr');
      await expect
        .poll(() => receipt.textContent(), { timeout: 30_000, interval: 250 })
        .toContain('vous avez aussi accepté');
      await noEnglishOn(ui.base, counsellor, 'amend receipt');
      problems.push(...(await shoot(counsellor, 'amend-consent-receipt-v2-fr')));
      await counsellor.getByRole('button', { name: `Renvoyer à ${windsorFr}` }).click();
      await counsellor.waitForURL(
        (url) => /\/referrals\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(declinedId),
      );
      const resentId = new URL(counsellor.url()).pathname.split('/').at(-1)!;

      await useLanguage(windsor, 'Français');
      await windsor.goto(`/referrals/${resentId}`);
      await windsor.getByText('Synthétique : logement à Windsor').waitFor();
      const card = windsor.locator('.card', { hasText: 'Le consentement de la personne' });
      await card.getByRole('button', { name: 'Enregistrer le retrait de la personne' }).click();
      await card.getByRole('group', { name: 'Confirmer le retrait de la personne' }).waitFor();
      await noEnglishOn(ui.base, windsor, 'record withdrawal');
      problems.push(...(await shoot(windsor, 'amend-record-withdrawal-fr')));
      await card.getByRole('button', { name: 'Enregistrer le retrait maintenant' }).click();
      await windsor.getByText('Le retrait de la personne est enregistré. Le partage a cessé.').waitFor();
    } finally {
      // The accounts remember their language: leave them in English.
      for (const page of [counsellor, windsor]) await useLanguage(page, 'English').catch(() => undefined);
    }
    expect(problems).toEqual([]);
  });
});
