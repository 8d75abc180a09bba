import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ApiUser, consentAndSend, referralWithWithheldCategory } from './console/api.ts';
import { screenshot, seriousViolations, widths } from './console/browser.ts';
import { openConsole } from './console/open.ts';

// The web console in a real browser (Debian's chromium, driven by playwright-core) against
// every service, real, behind the gateway serving the built console (openConsole), on a
// database and NATS namespace of its own. The tests run in order and build on each other's
// referrals, as a day at work would. The console in French, from the keyboard alone and its
// quick exit are console-access.test.ts's.
// The closed network reaches no outside page: the quick exit goes to the console's own plain one.
const ui = openConsole('console', { QUICK_EXIT_URL: '/neutral.html' });
type Shown = { referralId: string; subjectRef: string };
let shown: Promise<{ english: Shown; french: Shown }> | undefined;

/**
 * Referrals of this file's own for the screens that show one (a do-not-contact referral with
 * a withheld category, Peel to London; a French one, the crisis line to PACT-Ottawa): made
 * once, by whichever test asks first, so no test relies on another having run.
 */
function referralsToShow(): Promise<{ english: Shown; french: Shown }> {
  shown ??= (async () => {
    const english = await referralWithWithheldCategory(await ApiUser.signIn(ui.base, 'peel-officer'), {
      from: 'peel-regional-police',
      to: 'london-coalition',
      language: 'en',
      needs: ['housing'],
      doNotContact: true,
      content: {
        needs: 'Synthetic: housing',
        safe_contact: 'Synthetic: only through the officer',
        situation: 'Synthetic: the situation that was taken back',
      },
    });
    const french = await referralWithWithheldCategory(await ApiUser.signIn(ui.base, 'crisis-counsellor'), {
      from: 'ontario-ht-crisis-line',
      to: 'pact-ottawa',
      language: 'fr',
      needs: ['counselling'],
      content: {
        needs: 'Synthétique : counseling',
        safe_contact: 'Synthétique : texto après 18 h',
        situation: 'Synthétique : retiré par la personne',
      },
    });
    return { english, french };
  })();
  return shown;
}

const london = 'London Anti-Human Trafficking Coalition';
const peel = 'Peel Regional Police';

/**
 * An urgent hand-off to London while London is closed (evenings, weekends) offers the crisis
 * line now as well (ADR 41): these tests send to London only, whatever the hour they run at.
 */
async function chooseLondonOnlyWhenClosed(page: Page): Promise<void> {
  const only = page.getByRole('radio', { name: `${london} only, when it opens` });
  if ((await only.count()) > 0) await only.check();
}

describe('the web console', { timeout: 180_000 }, () => {
  it('carries a hand-off across three people: officer, London intake, auditor', async () => {
    // London's intake worker is already looking at the inbox when the officer sends.
    const intake = await ui.as('london-intake');
    await intake.waitForURL(/\/inbox$/);
    await intake.getByText('New referrals appear here as they arrive.').waitFor();

    const officer = await ui.as('peel-officer');
    await officer.waitForURL(/\/handoff$/);
    await officer.getByText('Read this to the person').waitFor();
    await officer.getByLabel('Shelter', { exact: true }).check();
    await officer.getByLabel('Counselling', { exact: true }).check();
    await officer.getByLabel('Where is the person?').selectOption('london');
    await officer.getByLabel('Priority').selectOption('PRIORITY_URGENT');
    await officer.getByRole('button', { name: 'Find agencies' }).click();
    await officer.getByRole('radio', { name: new RegExp(`^${london}`) }).check();
    await chooseLondonOnlyWhenClosed(officer);
    // The preset (needs + safe contact) decides what is sent, and the consent covers exactly that.
    const offered = await officer.locator('textarea[name^="packet-"]').all();
    expect(await Promise.all(offered.map((field) => field.getAttribute('name')))).toEqual([
      'packet-needs',
      'packet-safe_contact',
    ]);
    await officer.locator('textarea[name="packet-safe_contact"]').fill('Synthetic: text only, after 6 pm');
    await officer.locator('textarea[name="packet-needs"]').fill('Synthetic: a safe bed tonight, counselling');
    await officer.getByRole('button', { name: 'Record consent and send' }).click();
    await officer.getByText(new RegExp(`^Referral sent to ${london}[.;]`)).waitFor();
    await expect.poll(() => officer.locator('pre.receipt-text').textContent()).toContain('Your consent receipt');
    await officer.getByLabel('Receipt language').selectOption('fr');
    await expect.poll(() => officer.locator('pre.receipt-text').textContent()).toContain('Votre reçu de consentement');
    await screenshot(officer, 'handoff-receipt-desktop');

    // The sender's own view: Peel is not a recipient the person agreed to, so nothing of the person
    // shows, and it says why in words that do not look like a failure.
    await officer.getByRole('link', { name: 'Open the referral' }).click();
    await officer.waitForURL(/\/referrals\/[0-9a-f-]{36}$/);
    const journeyReferral = officer.url().split('/').pop()!;
    const sealed = `Sent to ${london}; only they can read it.`;
    await expect.poll(() => officer.locator('.packet dd').allTextContents()).toEqual([sealed, sealed]);

    // It appears in London's inbox without a reload, with its countdown.
    const card = intake.locator('li.referral', { has: intake.getByRole('link', { name: `From ${peel}` }) });
    await card.first().waitFor({ timeout: 15_000 });
    await expect.poll(() => card.first().textContent()).toMatch(/left to acknowledge/);
    await expect.poll(() => intake.getByRole('status').allTextContents()).toContain(`New referral from ${peel}.`);
    await card.first().getByRole('link').click();
    await intake.waitForURL(new RegExp(`/referrals/${journeyReferral}$`));
    await intake.getByText('Synthetic: text only, after 6 pm').waitFor();
    await intake.getByText('Synthetic: a safe bed tonight, counselling').waitFor();

    await intake.getByRole('button', { name: 'Acknowledge' }).click();
    await intake.getByText('Saved: Acknowledged.').waitFor();
    await intake.getByRole('button', { name: 'Accept', exact: true }).click();
    await intake.getByText('Saved: Accepted.').waitFor();
    await intake.getByRole('button', { name: 'Record first contact' }).click();
    await intake.getByLabel('How you reached the person').selectOption('phone');
    await intake.locator('form.subform').getByRole('button', { name: 'Record first contact' }).click();
    await intake.getByText('Saved: In contact.').waitFor();
    await intake.getByRole('button', { name: 'Close', exact: true }).click();
    await intake.getByLabel('Outcome').selectOption('services_provided');
    await intake.locator('form.subform').getByRole('button', { name: 'Close' }).click();
    await intake.getByText('Saved: Closed.').waitFor();
    await expect.poll(() => intake.locator('ol.timeline li').count()).toBe(5);

    // The auditor sees London's closed hand-off in the dashboard, then verifies the audit log.
    const auditor = await ui.as('auditor');
    await auditor.waitForURL(/\/oversight$/);
    // The hand-off times table (each chart also carries a table of its own, for screen readers).
    const times = auditor.getByRole('region', { name: 'Hand-off times', exact: true });
    const londonRow = times.locator('tbody tr').filter({ hasText: new RegExp(`^${london}`) });
    await expect
      .poll(
        async () => {
          await auditor.reload();
          await auditor.getByRole('heading', { name: 'Oversight' }).waitFor();
          return (await londonRow.count()) > 0 ? await londonRow.locator('td').nth(4).textContent() : '';
        },
        { timeout: 30_000, interval: 500 },
      )
      .toMatch(/\(1\)$/);
    await auditor.getByRole('img', { name: /Time to acknowledge: median and 90th percentile/ }).waitFor();
    await auditor.getByRole('link', { name: 'Audit log' }).click();
    await auditor.getByRole('heading', { name: 'Latest signed checkpoint' }).waitFor();
    await auditor.getByRole('button', { name: 'Verify the audit log' }).click();
    await auditor
      .getByText(/^Verified: [\d,]+ entries, [\d,]+ signed checkpoints, nothing changed or missing\.$/)
      .waitFor({ timeout: 60_000 });
  });

  it('shows withheld categories as not shared, flags do-not-contact, and refuses another agency’s referral', async () => {
    const {
      english: { referralId, subjectRef },
    } = await referralsToShow();

    const intake = await ui.as('london-intake');
    await intake.goto(`/referrals/${referralId}`);
    await intake.getByRole('alert').filter({ hasText: 'DO NOT CONTACT the person directly' }).waitFor();
    const packet = intake.locator('.packet .fact-group');
    await expect
      .poll(() => packet.allTextContents())
      .toEqual([
        'Needs' + 'Synthetic: housing',
        'Safe times and ways to reach' + 'Synthetic: only through the officer',
        'Situation' + 'Not shared — no consent',
      ]);
    expect(await intake.content()).not.toContain('taken back');

    // Windsor-Essex opens London's referral by its address: a refusal, and nothing of the person.
    const windsor = await ui.as('windsor-intake');
    await windsor.goto(`/referrals/${referralId}`);
    await windsor.getByRole('heading', { name: 'You cannot see this referral.' }).waitFor();
    const page = await windsor.content();
    for (const secret of ['Synthetic: housing', 'only through the officer', 'DO NOT CONTACT', subjectRef])
      expect(page).not.toContain(secret);

    // The auditor finds both reads in the person's access log: London's allowed, Windsor-Essex's denied.
    const auditor = await ui.as('auditor');
    await auditor.goto('/oversight?tab=access');
    await auditor.getByLabel('Referral reference, receipt reference or person’s subject reference').fill(subjectRef);
    const rows = auditor.locator('tbody tr');
    await expect
      .poll(
        async () => {
          await auditor.getByRole('button', { name: 'Show accesses' }).click();
          await auditor.waitForLoadState('networkidle');
          return (await rows.allTextContents()).join('\n');
        },
        { timeout: 30_000, interval: 500 },
      )
      .toMatch(/london-intake.*London Anti-Human Trafficking Coalition.*Allowed[\s\S]*windsor-intake.*Denied/);
  });

  it('announces to the auditor, as it happens, a scope police propose and the crisis line confirms', async () => {
    const auditor = await ui.as('auditor', widths.phone);
    await auditor.goto('/oversight?tab=consent');
    const announcements = auditor.getByRole('log');
    await announcements.getByText('Nothing yet').waitFor();
    // Connected: the notice that the announcements are not connected is gone.
    await auditor.getByText('Not connected to the live announcements').waitFor({ state: 'detached' });

    const officer = await ApiUser.signIn(ui.base, 'peel-officer');
    const { consentId, consent } = await officer.call<{ consentId: string; consent: { scopes: { id: string }[] } }>(
      'POST',
      '/api/consents',
      {
        method: 'CAPTURE_METHOD_VERBAL',
        language: 'en',
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        scopes: [{ recipientAgencyIds: ['peel-regional-police'], purposes: ['investigation'], categories: ['needs'] }],
      },
    );
    await announcements.getByText(`Proposed by police: no effect until confirmed by ${peel}`).waitFor();
    const counsellor = await ApiUser.signIn(ui.base, 'crisis-counsellor');
    await counsellor.call('POST', `/api/consents/${consentId}/scopes/${consent.scopes[0]!.id}/confirm`, {});
    const items = announcements.getByRole('listitem');
    await announcements.getByText('Confirmed with the person by').waitFor();
    const texts = await items.allTextContents();
    expect(texts.length).toBe(2);
    expect(texts[0]).toContain(`for ${peel} (consent ${consentId})`);
    // The report's police table has the confirmed scope once the audit log has taken the event in.
    const row = auditor.getByRole('row').filter({ hasText: consentId });
    await expect
      .poll(
        async () => {
          await auditor.reload();
          await auditor.getByRole('heading', { name: 'Consents by agency and method' }).waitFor();
          return (await row.allTextContents()).join('\n');
        },
        { timeout: 30_000, interval: 500 },
      )
      .toContain('Confirmed with the person');
  });

  it('shows a decline with its reason in the sender’s outbox, and resends to the suggested agency', async () => {
    const { referralId } = await consentAndSend(await ApiUser.signIn(ui.base, 'peel-officer'), {
      from: 'peel-regional-police',
      to: 'london-coalition',
      recipients: ['london-coalition', 'windsor-essex-ahtag'],
      needs: ['counselling'],
      content: 'Synthetic: counselling near Windsor',
    });
    const referral = { id: referralId };

    const intake = await ui.as('london-intake');
    await intake.goto(`/referrals/${referral.id}`);
    await intake.getByRole('button', { name: 'Decline' }).click();
    await intake.getByLabel('Reason for declining').selectOption('outside_mandate');
    await intake.getByLabel('Suggest another agency').selectOption('windsor-essex-ahtag');
    await intake.locator('form.subform').getByRole('button', { name: 'Decline' }).click();
    await intake.getByText('Saved: Declined.').waitFor();

    const sender = await ui.as('peel-officer');
    await sender.getByRole('link', { name: 'Sent' }).click();
    const card = sender.locator('li.referral', { hasText: 'Outside our mandate' });
    await card.first().waitFor();
    await expect
      .poll(() => card.first().textContent())
      .toContain('Suggested: Windsor-Essex Anti-Human Trafficking Action Group');
    await card
      .first()
      .getByRole('button', { name: /^Resend to Windsor-Essex/ })
      .click();
    await sender.waitForURL(
      (url) => /\/referrals\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(referral.id),
    );
    await sender
      .getByRole('heading', {
        name: 'Referral: Peel Regional Police → Windsor-Essex Anti-Human Trafficking Action Group',
      })
      .waitFor();
    await sender.getByText('Resent after a decline').waitFor();
  });

  it('records, from the referring officer’s screen, that the person withdraws consent: the open referral is withdrawn', async () => {
    const { referralId } = await consentAndSend(await ApiUser.signIn(ui.base, 'opp-officer'), {
      from: 'opp',
      to: 'london-coalition',
      needs: ['housing'],
      content: 'Synthetic: a room for two weeks',
    });
    const referral = { id: referralId };

    const page = await ui.as('opp-officer');
    await page.goto(`/referrals/${referral.id}`);
    await page.getByRole('heading', { name: 'The person’s consent' }).waitFor();
    await page.getByRole('button', { name: 'The person withdraws this consent' }).click();
    await page.getByRole('button', { name: 'Withdraw the consent now' }).click();
    await page.getByText('Consent withdrawn. Sharing has stopped.').waitFor();
    // The network withdraws the referral that relied on it; the page follows on the live feed.
    await page.locator('.referral-head').getByText('Withdrawn').waitFor({ timeout: 15_000 });
    await page.getByText(/withdrawn on/).waitFor();

    const intake = await ui.as('london-intake');
    await intake.goto(`/referrals/${referral.id}`);
    await intake.locator('.referral-head').getByText('Withdrawn').waitFor();
    expect(await intake.content()).not.toContain('a room for two weeks');
  });

  it('puts a referral that missed its target before the crisis line, who may open it where consent covers it', async () => {
    const { referralId } = await consentAndSend(await ApiUser.signIn(ui.base, 'peel-officer'), {
      from: 'peel-regional-police',
      to: 'sarnia-lambton-committee',
      recipients: ['sarnia-lambton-committee', 'ontario-ht-crisis-line'],
      needs: ['safety_planning'],
      priority: 'PRIORITY_URGENT',
      content: 'Synthetic: a safety plan before tonight',
    });
    const referral = { id: referralId };
    // The test's target: the acknowledgement timer falls due now instead of in an hour.
    await expect
      .poll(
        async () =>
          (
            await ui.lab.n.sql.query(
              `update escalation.timers set due_at = now() where referral_id = $1 and target = 'acknowledge'`,
              [referral.id],
            )
          ).rowCount,
        { timeout: 15_000, interval: 250 },
      )
      .toBe(1);

    const crisis = await ui.as('crisis-counsellor');
    await crisis.getByRole('link', { name: 'Escalations' }).click();
    const item = crisis.locator('li.referral', { hasText: 'Sarnia-Lambton' });
    await item.first().waitFor({ timeout: 30_000 });
    await expect.poll(() => item.first().textContent()).toContain('Not acknowledged in time');
    await item.first().getByText('The person’s consent covers your agency: you may open it.').waitFor();
    await item.first().getByRole('link').click();
    await crisis.getByText('Synthetic: a safety plan before tonight').waitFor();
    await crisis.getByText('Escalated: a hand-off target was missed.').waitFor();

    // The sender is told too, and may open its own referral.
    const sender = await ui.as('peel-officer');
    await sender.getByRole('link', { name: 'Escalations' }).click();
    await sender.locator('li.referral', { hasText: 'Sarnia-Lambton' }).first().getByRole('link').click();
    await sender.waitForURL(new RegExp(`/referrals/${referral.id}$`));
  });

  it('lets the administrator change a listing, export the directory as HSDS and import it back', async () => {
    const admin = await ui.as('admin');
    await admin.getByRole('link', { name: 'Directory' }).click();
    const sarnia = 'Sarnia-Lambton Committee Against the Trafficking of Women and Children';
    await admin.getByRole('button', { name: `Edit ${sarnia}` }).click();
    await admin.getByLabel('Capacity').fill('7');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByText(`Saved ${sarnia}.`).waitFor();
    const listing = await (
      await ApiUser.signIn(ui.base, 'admin')
    ).call<{ agency: { capacity: number } }>('GET', '/api/agencies/sarnia-lambton-committee');
    expect(listing.agency.capacity).toBe(7);

    // A bad target is named and nothing changes.
    await admin.getByRole('button', { name: `Edit ${sarnia}` }).click();
    await admin.getByLabel('Accept an urgent referral within').fill('0');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('alert').filter({ hasText: 'Some fields need attention.' }).waitFor();
    const acceptUrgent = admin.getByLabel('Accept an urgent referral within');
    await expect.poll(() => acceptUrgent.getAttribute('aria-invalid')).toBe('true');
    // A rule only the directory service knows (at most a week when urgent): its refusal comes
    // back through the gateway to the very input, with the reason beside it.
    await acceptUrgent.fill(String(8 * 24 * 60));
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByText('an urgent target of at most a week').first().waitFor();
    expect(await acceptUrgent.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await acceptUrgent.getAttribute('aria-describedby')) ?? '';
    expect(describedBy).not.toBe('');
    const reasons = await Promise.all(describedBy.split(' ').map((id) => admin.locator(`[id="${id}"]`).textContent()));
    expect(reasons.join(' ')).toContain('an urgent target of at most a week');
    expect(await admin.getByLabel('Capacity').getAttribute('aria-invalid')).toBeNull();
    await admin.getByRole('button', { name: 'Cancel' }).click();
    const after = await (
      await ApiUser.signIn(ui.base, 'admin')
    ).call<{ agency: { sla: { acceptUrgentMinutes: number } } }>('GET', '/api/agencies/sarnia-lambton-committee');
    expect(after.agency.sla.acceptUrgentMinutes).toBe(240);

    const download = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Export the directory (HSDS JSON)' }).click();
    const file = await (await download).path();
    await admin.getByLabel('HSDS JSON file to import').setInputFiles(file);
    await admin.getByRole('button', { name: 'Import', exact: true }).click();
    await admin.getByText(/^Imported \d+ agencies\.$/).waitFor();
  });

  // Every screen, one width a test: each within its timeout on a loaded machine. After the tests
  // above, whose referrals the screens then show.
  const screens = (shown: {
    english: Shown;
    french: Shown;
  }): { user: string; path: string; name: string; ready: string }[] => [
    { user: 'peel-officer', path: '/handoff', name: 'handoff', ready: 'Read this to the person' },
    { user: 'peel-officer', path: '/outbox', name: 'outbox', ready: 'Referrals you sent' },
    {
      user: 'peel-officer',
      path: `/referrals/${shown.english.referralId}`,
      name: 'referral-sender',
      ready: 'only they can read it',
    },
    { user: 'london-intake', path: '/inbox', name: 'inbox', ready: 'Incoming referrals' },
    {
      user: 'london-intake',
      path: `/referrals/${shown.english.referralId}`,
      name: 'referral-detail',
      ready: 'DO NOT CONTACT',
    },
    {
      user: 'windsor-intake',
      path: `/referrals/${shown.english.referralId}`,
      name: 'referral-refused',
      ready: 'You cannot see this referral.',
    },
    { user: 'crisis-counsellor', path: '/escalations', name: 'escalations', ready: 'Escalations' },
    { user: 'pact-intake', path: `/referrals/${shown.french.referralId}`, name: 'referral-fr', ready: 'Historique' },
    { user: 'auditor', path: '/oversight?tab=handoff', name: 'oversight-handoff', ready: 'Time to acknowledge' },
    {
      user: 'auditor',
      path: '/oversight?tab=consent',
      name: 'oversight-consent',
      ready: 'Consents by agency and method',
    },
    {
      user: 'auditor',
      path: '/oversight?tab=statistics',
      name: 'oversight-statistics',
      ready: 'so that no hidden count can be worked out',
    },
    { user: 'auditor', path: '/oversight?tab=audit', name: 'oversight-audit', ready: 'Latest signed checkpoint' },
    { user: 'admin', path: '/directory', name: 'directory', ready: 'Open Referral (HSDS) exchange' },
    { user: 'admin', path: '/people', name: 'people-admin', ready: 'People with access' },
    { user: 'london-supervisor', path: '/people', name: 'people-supervisor', ready: 'People with access' },
    { user: 'london-supervisor', path: '/oversight', name: 'oversight-supervisor', ready: 'Hand-off times' },
  ];
  it.each(Object.entries(widths))(
    'passes axe-core (no serious or critical WCAG 2.2 AA violation) on every screen at the %s width',
    async (width, viewport) => {
      const referrals = await referralsToShow();
      const problems: string[] = [];
      const saved: string[] = [];
      // The sign-in page, before anyone is signed in.
      const signIn = await ui.page(viewport);
      await signIn.goto('/');
      await signIn.getByRole('heading', { name: 'Sign in to Passage' }).waitFor();
      problems.push(...(await seriousViolations(signIn)).map((v) => `sign-in @${width}: ${v}`));
      saved.push(await screenshot(signIn, `sign-in-${width}`));

      const pages = new Map<string, Page>();
      for (const screen of screens(referrals)) {
        let page = pages.get(screen.user);
        if (!page) {
          page = await ui.as(screen.user, viewport);
          pages.set(screen.user, page);
        }
        await page.goto(screen.path);
        await page.getByText(screen.ready).first().waitFor();
        await page.waitForLoadState('networkidle').catch(() => undefined);
        problems.push(...(await seriousViolations(page)).map((v) => `${screen.name} @${width}: ${v}`));
        saved.push(await screenshot(page, `${screen.name}-${width}`));
        // Nothing wider than the screen but the tables, which scroll inside their own region.
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        if (overflow > 1) problems.push(`${screen.name} @${width}: the page is ${overflow} px wider than the screen`);
      }
      // The hand-off filled in (one form: nothing sent) and the directory's edit form, opened.
      const officer = pages.get('peel-officer')!;
      await officer.goto('/handoff');
      await officer.getByLabel('Housing', { exact: true }).check();
      await officer.getByLabel('Where is the person?').selectOption('london');
      await officer.getByRole('button', { name: 'Find agencies' }).click();
      await officer.getByRole('radio', { name: new RegExp(`^${london}`) }).check();
      problems.push(...(await seriousViolations(officer)).map((v) => `handoff-filled @${width}: ${v}`));
      saved.push(await screenshot(officer, `handoff-filled-${width}`));
      const admin = pages.get('admin')!;
      await admin.goto('/directory');
      await admin.getByRole('button', { name: `Edit ${london}` }).click();
      await admin.getByRole('heading', { name: `Edit ${london}` }).waitFor();
      problems.push(...(await seriousViolations(admin)).map((v) => `directory-edit @${width}: ${v}`));
      saved.push(await screenshot(admin, `directory-edit-${width}`));
      expect(problems).toEqual([]);
      // Every screen, saved as a test artifact.
      expect(saved).toHaveLength(screens(referrals).length + 3);
      for (const path of saved) expect(statSync(path).size, path).toBeGreaterThan(10_000);
    },
    // Every screen of the console, each checked by axe and photographed whole: about three
    // minutes alone on a loaded machine, the describe's own deadline. A deadline only.
    600_000,
  );
});
