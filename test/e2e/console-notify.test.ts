import { describe, expect, it } from 'vitest';
import { ApiUser, consentAndSend } from './console/api.ts';
import { screenshot, seriousViolations, switchTo, widths } from './console/browser.ts';
import { noEnglishOn } from './console/french.ts';
import { openConsole } from './console/open.ts';

// Notifications in the console (issue 17 item 7, ADR 40), in a real browser against the built
// console and every service, real (openConsole): an urgent referral arrives and the header
// counts it without a reload, the list opens the referral and marks it read, the e-mail choices
// are kept; EN and FR.
const ui = openConsole('consolenotify');

/** Each referral's short reference (R-7K3M-Q9), as its send answered: what notices name it by. */
const references = new Map<string, string>();
const shortReference = (referralId: string): string => references.get(referralId) ?? 'unknown referral';

async function urgentToLondon(): Promise<string> {
  const officer = await ApiUser.signIn(ui.base, 'peel-officer');
  const { referralId, reference } = await consentAndSend(officer, {
    from: 'peel-regional-police',
    to: 'london-coalition',
    needs: ['counselling'],
    content: 'Synthetic: a safe place tonight',
    priority: 'PRIORITY_URGENT',
  });
  expect(reference).toMatch(/^R-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
  references.set(referralId, reference);
  return referralId;
}

describe('notifications in the console', { timeout: 180_000 }, () => {
  it('counts an arriving urgent referral in the header, and the list opens it (EN)', async () => {
    const intake = await ui.as('london-intake');
    await intake.getByRole('heading', { name: 'Incoming referrals' }).waitFor();
    const badge = intake.locator('header .notify-link');
    await badge.waitFor();
    // Nothing has happened to London yet in this network.
    expect(await intake.locator('header .notify-count').count()).toBe(0);

    const referralId = await urgentToLondon();
    // No reload, no click: the header asks again by itself.
    await expect.poll(() => intake.locator('header .notify-count').textContent(), { timeout: 30_000 }).toBe('1');
    expect(await intake.locator('header .notify-count').getAttribute('aria-label')).toBe('1 unread');
    await screenshot(intake, 'notify-header-1280');

    await badge.click();
    await intake.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    const notices = intake.locator('.notify-list li');
    await notices.first().waitFor();
    expect(await notices.count()).toBeGreaterThan(0);
    const first = await notices.first().textContent();
    expect(first).toContain('An urgent referral is waiting');
    expect(first).toContain(`Reference ${shortReference(referralId)}`);
    expect(first).toContain('New');
    expect(await seriousViolations(intake)).toEqual([]);
    await screenshot(intake, 'notify-list-1280');

    await intake.getByRole('link', { name: 'An urgent referral is waiting' }).first().click();
    await intake.waitForURL(`**/referrals/${referralId}`);
    // Read: the count is gone.
    await expect.poll(() => intake.locator('header .notify-count').count()).toBe(0);
  });

  it('keeps the e-mail choices: a kind turned off stays off (EN)', async () => {
    const intake = await ui.as('london-intake');
    await intake.goto('/notifications');
    const messages = intake.getByRole('checkbox', { name: 'A new message on a referral' });
    await messages.waitFor();
    expect(await messages.isChecked()).toBe(true);
    await messages.uncheck();
    await intake.getByRole('button', { name: 'Save my choices' }).click();
    await intake.getByText('Your choices are saved.').waitFor();
    await intake.reload();
    await intake.getByRole('checkbox', { name: 'A new message on a referral' }).waitFor();
    expect(await intake.getByRole('checkbox', { name: 'A new message on a referral' }).isChecked()).toBe(false);
    expect(await intake.getByRole('checkbox', { name: 'An urgent referral is waiting' }).isChecked()).toBe(true);
    const api = await ApiUser.signIn(ui.base, 'london-intake');
    const saved = await api.call<{ preferences: { emailKinds: string[] } }>('GET', '/api/notifications/preferences');
    expect(saved.preferences.emailKinds).toEqual(['urgent_referral', 'escalated', 'declined']);
  });

  it('in French, on a phone: the header, the list and the choices', async () => {
    const supervisor = await ui.as('london-supervisor', widths.phone);
    await switchTo(supervisor, 'fr');
    try {
      const referralId = await urgentToLondon();
      await supervisor.goto('/notifications');
      await supervisor.getByRole('heading', { name: 'Avis', level: 1 }).waitFor();
      const mine = supervisor.locator('.notify-list li', { hasText: shortReference(referralId) });
      await expect.poll(() => mine.count(), { timeout: 30_000 }).toBe(1);
      expect(await mine.textContent()).toContain('Une demande urgente attend');
      expect(await mine.textContent()).toContain(`Référence ${shortReference(referralId)}`);
      const count = supervisor.locator('header .notify-count');
      await count.waitFor();
      expect(await count.getAttribute('aria-label')).toMatch(/^\d+ non lus$/);
      expect(await supervisor.getByRole('checkbox', { name: 'Un nouveau message sur une demande' }).isChecked()).toBe(
        true,
      );
      await noEnglishOn(ui.base, supervisor, '/notifications');
      expect(await seriousViolations(supervisor)).toEqual([]);
      await screenshot(supervisor, 'notify-list-fr-390');
      await supervisor.getByRole('button', { name: 'Tout marquer comme lu' }).click();
      await expect.poll(() => supervisor.locator('header .notify-count').count()).toBe(0);
      await supervisor.setViewportSize(widths.desktop);
      await screenshot(supervisor, 'notify-list-fr-1280');
    } finally {
      await switchTo(supervisor, 'en');
    }
    const phone = await ui.as('london-intake', widths.phone);
    await phone.goto('/notifications');
    await phone.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await phone.locator('.notify-list li').first().waitFor();
    await screenshot(phone, 'notify-list-390');
  });
});
