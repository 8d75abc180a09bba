import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ApiUser } from './console/api.ts';
import { screenshot, seriousViolations, switchTo, widths } from './console/browser.ts';
import { noEnglishOn } from './console/french.ts';
import { openConsole } from './console/open.ts';

// Issue 17, items 4 and 5, as the people who use them would: a London intake worker finds a
// referral by the reference on the person's consent receipt, claims it, and finds it under
// "My referrals"; the supervisor reassigns it to another worker and sees the caseload; the
// timeline names the workers. In English and French, at 1280 and 390 px. All data synthetic.
const ui = openConsole('console-lists');
const outreach = { userId: `london-outreach-${randomUUID().slice(0, 6)}`, displayName: 'Sam, London outreach (test)' };

interface Sent {
  readonly id: string;
  readonly reference: string;
  /** The reference printed on the person's consent receipt. */
  readonly receipt: string;
}

/** Peel records a person's consent and sends London a referral (the API, as the set-up). */
async function peelSendsLondon(content: string): Promise<Sent> {
  const officer = await ApiUser.signIn(ui.base, 'peel-officer');
  const consent = await officer.call<{ consentId: string; subjectRef: string }>('POST', '/api/consents', {
    method: 'CAPTURE_METHOD_VERBAL',
    language: 'en',
    expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    scopes: [{ recipientAgencyIds: ['london-coalition'], purposes: ['referral'], categories: ['needs'] }],
  });
  const { referral } = await officer.call<{ referral: { id: string; reference: string } }>('POST', '/api/referrals', {
    subjectRef: consent.subjectRef,
    fromAgency: 'peel-regional-police',
    toAgency: 'london-coalition',
    priority: 'PRIORITY_STANDARD',
    needs: ['housing'],
    language: 'en',
    packet: [{ category: 'needs', content }],
  });
  return {
    id: referral.id,
    reference: referral.reference,
    receipt: consent.consentId.replace(/-/g, '').slice(-8).toUpperCase(),
  };
}

/** The card of a list that shows this reference. */
const card = (page: Page, reference: string) => page.locator('li.referral', { hasText: reference });

beforeAll(async () => {
  // A second worker at London, for the supervisor to hand a referral to.
  const supervisor = await ApiUser.signIn(ui.base, 'london-supervisor');
  await supervisor.call('POST', '/api/people', {
    ...outreach,
    roles: ['intake_worker'],
    credential: 'CREDENTIAL_TEMPORARY_PASSWORD',
  });
}, 120_000);

describe('search, references and assignment in the console', { timeout: 240_000 }, () => {
  it('finds a referral by its receipt reference; a worker claims it, the supervisor reassigns it, the caseload counts it', async () => {
    const first = await peelSendsLondon('Synthetic: housing needed, found by receipt');
    await peelSendsLondon('Synthetic: another person, not to be found');
    expect(first.reference).toMatch(/^R-[0-9A-Z]{4}-[0-9A-Z]{2}$/);

    // The intake worker has only the receipt's reference the person read out on the phone.
    const intake = await ui.as('london-intake');
    await intake.getByRole('navigation').getByRole('link', { name: 'Search' }).click();
    await intake.getByRole('heading', { name: 'Find a referral' }).waitFor();
    await intake.getByLabel('Consent receipt reference').fill(first.receipt.toLowerCase());
    await intake.getByRole('button', { name: 'Search', exact: true }).click();
    await intake.getByText('Found: 1').waitFor();
    const results = intake.locator('li.referral');
    expect(await results.count()).toBe(1);
    expect(await results.first().textContent()).toContain(first.reference);
    expect(await results.first().textContent()).toContain('Not assigned');
    expect(await seriousViolations(intake)).toEqual([]);
    await screenshot(intake, 'lists-search-en-1280');

    // Opened, it shows its reference; the worker claims it.
    await results.first().getByRole('link').click();
    await intake.locator('.facts .reference', { hasText: first.reference }).waitFor();
    const assignment = intake.locator('.assignment');
    await assignment.getByRole('button', { name: 'Claim' }).click();
    await assignment.getByText('Assigned to: Alex, London intake (demo)').waitFor();
    await intake
      .locator('.timeline li', { hasText: /Assigned — Alex, London intake \(demo\) \(intake worker\), .*claimed/ })
      .waitFor();

    // My referrals shows it; the team inbox shows who has it.
    await intake.getByRole('navigation').getByRole('link', { name: 'Inbox' }).click();
    await intake.getByRole('button', { name: 'My referrals' }).click();
    await card(intake, first.reference).waitFor();
    expect(await intake.locator('li.referral').count()).toBeGreaterThan(0);
    expect(await card(intake, first.reference).textContent()).toContain('Assigned to: Alex, London intake (demo)');
    await screenshot(intake, 'lists-inbox-mine-en-1280');

    // The supervisor hands it to another worker; the timeline names who did what.
    const supervisor = await ui.as('london-supervisor');
    await supervisor.goto(`/referrals/${first.id}`);
    const panel = supervisor.locator('.assignment');
    await panel.getByText('Assigned to: Alex, London intake (demo)').waitFor();
    await panel.getByLabel('Assign to').selectOption(outreach.userId);
    await panel.getByRole('button', { name: 'Assign', exact: true }).click();
    await panel.getByText(`Assigned to: ${outreach.displayName}`).waitFor();
    const reassigned = supervisor.locator('.timeline li', { hasText: `to ${outreach.displayName}` });
    await reassigned.waitFor();
    expect(await reassigned.textContent()).toMatch(/Assigned — Morgan, London supervisor \(demo\) \(supervisor\), /);
    const timeline = (await supervisor.locator('.timeline').textContent()) ?? '';
    expect(timeline).toContain('Alex, London intake (demo)');
    expect(timeline).toContain('Morgan, London supervisor (demo)');
    await screenshot(supervisor, 'lists-detail-assigned-en-1280');

    // The caseload: one open referral for the new worker, none left for the intake worker.
    await supervisor.getByRole('navigation').getByRole('link', { name: 'Inbox' }).click();
    const caseload = supervisor.locator('.caseload');
    const row = caseload.locator('tr', { hasText: outreach.displayName });
    await row.waitFor();
    expect(await row.locator('td').first().textContent()).toBe('1');
    expect(await caseload.locator('tr', { hasText: 'Alex, London intake (demo)' }).count()).toBe(0);
    expect(await seriousViolations(supervisor)).toEqual([]);
    await screenshot(supervisor, 'lists-inbox-caseload-en-1280');

    // Reassigned: the intake worker's own list no longer has it.
    await intake.reload();
    await intake.getByRole('button', { name: 'My referrals' }).click();
    await expect.poll(() => card(intake, first.reference).count(), { timeout: 15_000 }).toBe(0);

    // On a phone: the team inbox with its claim buttons, and the caseload.
    const phone = await ui.as('london-supervisor', widths.phone);
    await phone.getByRole('navigation').getByRole('link', { name: 'Inbox' }).click();
    await phone.locator('.caseload tr', { hasText: outreach.displayName }).waitFor();
    await phone.locator('li.referral').first().waitFor();
    await screenshot(phone, 'lists-inbox-caseload-en-390');
  });

  it('in French: a supervisor assigns from the referral, the worker finds it under "Mes demandes" and by its reference', async () => {
    const second = await peelSendsLondon('Synthétique : logement');
    const supervisor = await ui.as('london-supervisor');
    await switchTo(supervisor, 'fr');
    try {
      await supervisor.goto(`/referrals/${second.id}`);
      const panel = supervisor.locator('.assignment');
      await panel.getByText('Non attribuée').waitFor();
      await panel.getByLabel('Attribuer à').selectOption('london-intake');
      await panel.getByRole('button', { name: 'Attribuer', exact: true }).click();
      await panel.getByText('Attribuée à\u00a0: Alex, London intake (demo)').waitFor();
      await supervisor.locator('.timeline li', { hasText: 'à Alex, London intake (demo)' }).waitFor();
      await screenshot(supervisor, 'lists-detail-assigned-fr-1280');
    } finally {
      await switchTo(supervisor, 'en');
    }

    const intake = await ui.as('london-intake', widths.phone);
    await switchTo(intake, 'fr');
    try {
      await intake.getByRole('navigation').getByRole('link', { name: 'Demandes reçues' }).click();
      await intake.getByRole('button', { name: 'Mes demandes' }).click();
      await card(intake, second.reference).waitFor();
      expect(await intake.locator('li.referral').count()).toBeGreaterThan(0);
      expect(await card(intake, second.reference).textContent()).toContain('Attribuée à');
      await noEnglishOn(ui.base, intake, 'inbox, my referrals');
      await screenshot(intake, 'lists-inbox-mine-fr-390');

      await intake.getByRole('navigation').getByRole('link', { name: 'Recherche' }).click();
      await intake.getByRole('heading', { name: 'Trouver une demande' }).waitFor();
      // Typed as read out: lower case, spaces for dashes.
      await intake.getByLabel('Référence de la demande').fill(second.reference.toLowerCase().replaceAll('-', ' '));
      await intake.getByRole('button', { name: 'Rechercher' }).click();
      await intake.getByText('Trouvées\u00a0: 1').waitFor();
      expect(await intake.locator('li.referral').count()).toBe(1);
      expect(await card(intake, second.reference).count()).toBe(1);
      await noEnglishOn(ui.base, intake, 'search');
      expect(await seriousViolations(intake)).toEqual([]);
      await screenshot(intake, 'lists-search-fr-390');
    } finally {
      await switchTo(intake, 'en');
    }
  });
});
