import { describe, expect, it } from 'vitest';
import { ApiUser, consentAndSend } from './console/api.ts';
import { switchTo } from './console/browser.ts';
import { openConsole } from './console/open.ts';

// What a walkthrough of the console saw wrong (issue 17, item 11), checked on screen as a
// person would, in English and French where there are words: statistics outcomes in words,
// no "<5" on a hidden count, "Targets met" only where a target applied, a consent naming a
// kind of agency, decline suggestions without police or the Crown, a place named once, the
// hand-off charts' titles, and the consent script following the language switch. The same
// harness as console.test.ts (openConsole), on a network, database and NATS namespace of this file's own.
const ui = openConsole('console-fixes');

/** A referral Peel sends London, taken by London through to `state` with the gateway's API. */
async function referralTo(state: 'closed' | 'declined' | 'withdrawn' | 'sent'): Promise<string> {
  const officer = await ApiUser.signIn(ui.base, 'peel-officer');
  const { referralId } = await consentAndSend(officer, {
    from: 'peel-regional-police',
    to: 'london-coalition',
    needs: ['housing'],
    content: `Synthetic: a referral to be ${state}`,
  });
  const intake = await ApiUser.signIn(ui.base, 'london-intake');
  const path = `/api/referrals/${referralId}`;
  if (state === 'declined') await intake.call('POST', `${path}/decline`, { reason: 'no_capacity' });
  if (state === 'withdrawn') await officer.call('POST', `${path}/withdraw`, { reason: 'sent_in_error' });
  if (state === 'closed') {
    await intake.call('POST', `${path}/acknowledge`, {});
    await intake.call('POST', `${path}/accept`, {});
    await intake.call('POST', `${path}/contact`, { method: 'phone', at: new Date().toISOString() });
    await intake.call('POST', `${path}/close`, { outcome: 'services_provided' });
  }
  return referralId;
}

describe('the console, as the walkthrough found it', { timeout: 180_000 }, () => {
  it('names statistics outcomes in words, shows a hidden count as x, and titles the hand-off charts as times', async () => {
    await referralTo('closed');
    await referralTo('declined');
    const auditor = await ui.as('auditor');

    // The hand-off charts: titled as times, their labels in whatever unit fits (never "in minutes").
    await auditor.goto('/oversight');
    const acknowledgeChart = auditor.getByRole('img', {
      name: /^Time to acknowledge: median and 90th percentile times\./,
    });
    await expect
      .poll(
        async () => {
          await auditor.reload();
          await auditor.getByRole('heading', { name: 'Oversight' }).waitFor();
          await auditor.waitForLoadState('networkidle');
          return acknowledgeChart.count();
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(1);
    const captions = await auditor.locator('figure.chart figcaption').allTextContents();
    expect(captions).not.toHaveLength(0);
    expect(captions.join(' ')).not.toMatch(/minutes/);

    // Statistics by outcome: words, not the report's codes; hidden counts as x, never "<5".
    await auditor.goto('/oversight?tab=statistics');
    const headers = auditor.locator('table thead th');
    await expect
      .poll(
        async () => {
          await auditor.reload();
          await auditor.getByLabel('Columns').selectOption('outcome');
          await auditor.waitForLoadState('networkidle');
          return headers.allTextContents();
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual(expect.arrayContaining(['Closed: Services provided', 'Declined']));
    const table = (await auditor.locator('table').textContent()) ?? '';
    expect(table).not.toMatch(/closed:|services_provided/);
    expect(table).not.toContain('<');
    const hidden = await auditor.locator('table td span[aria-hidden="true"]').allTextContents();
    expect(hidden).not.toHaveLength(0);
    expect(new Set(hidden)).toEqual(new Set(['x']));
    await auditor.getByText(/an x says nothing about its size/).waitFor();

    await switchTo(auditor, 'fr');
    try {
      await auditor.getByLabel('Colonnes').selectOption('outcome');
      await expect
        .poll(() => headers.allTextContents())
        .toEqual(expect.arrayContaining(['Fermée\u00a0: Services offerts', 'Refusée']));
      await auditor.getByRole('link', { name: 'Délais d’orientation' }).click();
      await auditor
        .getByRole('img', { name: /durées médiane et au 90e centile/ })
        .first()
        .waitFor();
      expect((await auditor.locator('figure.chart figcaption').allTextContents()).join(' ')).not.toMatch(/minutes/);
    } finally {
      await switchTo(auditor, 'en');
    }
  });

  it('says no target applies to a declined or withdrawn referral, in English and French', async () => {
    const declined = await referralTo('declined');
    const withdrawn = await referralTo('withdrawn');
    const intake = await ui.as('london-intake');
    for (const id of [declined, withdrawn]) {
      await intake.goto(`/referrals/${id}`);
      const head = intake.locator('.referral-head');
      await expect.poll(() => head.textContent()).toMatch(/(Declined|Withdrawn).*No target applies/);
      expect(await head.textContent()).not.toContain('Targets met');
    }
    await switchTo(intake, 'fr');
    try {
      await intake.goto(`/referrals/${declined}`);
      await expect.poll(() => intake.locator('.referral-head').textContent()).toContain('Aucun délai ne s’applique');
      expect(await intake.locator('.referral-head').textContent()).not.toContain('Délais respectés');
    } finally {
      await switchTo(intake, 'en');
    }
  });

  it('names a consent’s kind of recipient on the consent card, in English and French', async () => {
    const officer = await ApiUser.signIn(ui.base, 'peel-officer');
    const consent = await officer.call<{ subjectRef: string }>('POST', '/api/consents', {
      method: 'CAPTURE_METHOD_VERBAL',
      language: 'en',
      expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      scopes: [{ recipientKinds: ['coalition'], purposes: ['referral'], categories: ['needs'], doNotContact: false }],
    });
    const { referral } = await officer.call<{ referral: { id: string } }>('POST', '/api/referrals', {
      subjectRef: consent.subjectRef,
      fromAgency: 'peel-regional-police',
      toAgency: 'london-coalition',
      priority: 'PRIORITY_STANDARD',
      needs: ['counselling'],
      language: 'en',
      packet: [{ category: 'needs', content: 'Synthetic: counselling' }],
    });
    const page = await ui.as('peel-officer');
    await page.goto(`/referrals/${referral.id}`);
    const scope = page.locator('.consent li').first();
    await expect.poll(() => scope.textContent()).toMatch(/^any anti-trafficking coalition: needs/);
    await switchTo(page, 'fr');
    try {
      await expect
        .poll(() => page.locator('.consent li').first().textContent())
        .toMatch(/^tout organisme de type «\u00a0coalition contre la traite\u00a0»/);
    } finally {
      await switchTo(page, 'en');
    }
  });

  it('suggests support agencies only when declining: no police service, not the Crown', async () => {
    const referralId = await referralTo('sent');
    const admin = await ApiUser.signIn(ui.base, 'admin');
    const { agencies } = await admin.call<{ agencies: { id: string; kind: string; nameEn: string }[] }>(
      'GET',
      '/api/agencies',
    );
    const justice = agencies.filter((a) => a.kind === 'police' || a.kind === 'crown').map((a) => a.nameEn);
    expect(justice).not.toHaveLength(0);

    const intake = await ui.as('london-intake');
    await intake.goto(`/referrals/${referralId}`);
    await intake.getByRole('button', { name: 'Decline' }).click();
    const offered = await intake.getByLabel('Suggest another agency').locator('option').allTextContents();
    expect(offered).toContain('Windsor-Essex Anti-Human Trafficking Action Group');
    expect(offered.filter((name) => justice.includes(name))).toEqual([]);
  });

  it('names a place once in the directory when its region and municipality share the name', async () => {
    const admin = await ui.as('admin');
    await admin.goto('/directory');
    const row = admin.locator('tbody tr', { has: admin.getByRole('rowheader', { name: 'Toronto Police Service' }) });
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('Toronto');
    const coverage = await admin.locator('tbody tr td:nth-of-type(2)').allTextContents();
    expect(coverage).not.toHaveLength(0);
    for (const places of coverage) {
      const names = places.split(', ');
      expect(new Set(names).size, places).toBe(names.length);
    }
  });

  it('reads the consent script in the language the console is switched to', async () => {
    const counsellor = await ui.as('crisis-counsellor');
    await counsellor.goto('/handoff');
    const script = counsellor.locator('.card.script');
    await expect.poll(() => script.textContent()).toContain('I would like to connect you with people who can help.');
    await switchTo(counsellor, 'fr');
    try {
      await expect
        .poll(() => script.textContent())
        .toContain('J’aimerais vous mettre en contact avec des personnes qui peuvent vous aider.');
      expect(await script.getAttribute('lang')).toBe('fr');
      expect(await counsellor.getByLabel('Langue du texte de consentement').inputValue()).toBe('fr');
      // The worker can still read it in the other language.
      await counsellor.getByLabel('Langue du texte de consentement').selectOption('en');
      await expect.poll(() => script.textContent()).toContain('I would like to connect you');
    } finally {
      await switchTo(counsellor, 'en');
    }
    await expect.poll(() => script.textContent()).toContain('I would like to connect you');
  });
});
