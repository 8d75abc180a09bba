import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ApiUser, demoPassword, referralWithWithheldCategory } from './console/api.ts';
import { seriousViolations } from './console/browser.ts';
import { openConsole } from './console/open.ts';

// The console's safety for people who may be watched (issue 17, ADR 35), in a real browser
// against the console and every service (openConsole): the quick exit to an outside page (a local
// stand-in: the closed network reaches no other), neutral titles, the idle lock (a short one
// here: IDLE_LOCK_MINUTES is a setting), every tab locking at sign-out, the sender's words.
let outside: Server;
let outsideUrl = '';
const idleLockMinutes = 0.5;
const london = 'London Anti-Human Trafficking Coalition';

/** The titles of every entry of the tab's history, as the browser keeps them. */
async function historyTitles(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  const { entries } = (await cdp.send('Page.getNavigationHistory')) as { entries: { url: string; title: string }[] };
  await cdp.detach();
  // The tab's first, empty document is not the console's.
  return entries.filter((entry) => !entry.url.startsWith('about:')).map((entry) => entry.title);
}

beforeAll(async () => {
  outside = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Weather</title><h1>Weather</h1><p>Sunny, 21 °C.</p>');
  });
  await new Promise<void>((resolve) => outside.listen(0, '127.0.0.1', resolve));
  outsideUrl = `http://127.0.0.1:${(outside.address() as AddressInfo).port}/forecast`;
});

afterAll(async () => {
  await new Promise((resolve) => outside?.close(resolve));
});

// Opened after the outside page (hooks run in order), closed before it.
const ui = openConsole('consolesafety', () => ({
  QUICK_EXIT_URL: outsideUrl,
  IDLE_LOCK_MINUTES: String(idleLockMinutes),
}));

describe('the console is safe to use when watched', { timeout: 180_000 }, () => {
  it("says on the sender's own copy that only the recipient can read it (EN/FR)", async () => {
    const { referralId } = await referralWithWithheldCategory(await ApiUser.signIn(ui.base, 'peel-officer'), {
      from: 'peel-regional-police',
      to: 'london-coalition',
      language: 'en',
      needs: ['housing'],
      content: {
        needs: 'Synthetic: housing',
        safe_contact: 'Synthetic: only through the officer',
        situation: 'Synthetic: taken back',
      },
    });
    const officer = await ui.as('peel-officer');
    await officer.goto(`/referrals/${referralId}`);
    const packet = officer.locator('.packet dd');
    await packet.first().waitFor();
    const shown = await packet.allTextContents();
    expect(shown.length).toBeGreaterThan(0);
    for (const text of shown) expect(text).toBe(`Sent to ${london}; only they can read it.`);
    expect(await officer.content()).not.toContain('no consent');

    await officer.getByRole('button', { name: /Français/ }).click();
    await expect
      .poll(() => officer.locator('.packet dd').first().textContent())
      .toMatch(/^Envoyé à .+\u00a0; seul cet organisme peut le lire\.$/);
    await officer.getByRole('button', { name: /English/ }).click();
  });

  it('keeps every title neutral: the page, and every entry of its history', async () => {
    const intake = await ui.as('london-intake');
    for (const path of ['/inbox', '/directory', `/referrals/00000000-0000-4000-8000-000000000000`, '/nowhere']) {
      await intake.goto(path);
      await intake.locator('h1').first().waitFor();
      expect(await intake.title()).toBe('Passage');
    }
    await intake.getByRole('link', { name: 'Inbox' }).first().click();
    await intake.getByRole('heading', { name: 'Incoming referrals' }).waitFor();
    const titles = await historyTitles(intake);
    expect(titles.length).toBeGreaterThan(1);
    for (const title of titles) expect(title).toBe('Passage');
  });

  it('quick exit: goes to the outside page, and Back never shows Passage again', async () => {
    const intake = await ui.as('london-intake');
    await intake.goto('/directory');
    await intake.locator('h1').first().waitFor();
    await intake.goto('/inbox');
    await intake.getByRole('heading', { name: 'Incoming referrals' }).waitFor();
    await intake.getByRole('button', { name: /^Quick exit/ }).click();
    await intake.waitForURL(outsideUrl);
    expect(await intake.title()).toBe('Weather');
    expect((await intake.request.get('/api/session')).status()).toBe(401);

    // Back, twice: each console page reached leaves for the outside page before showing anything.
    for (let back = 0; back < 2; back++) {
      await intake.goBack().catch(() => null);
      await intake.waitForURL(outsideUrl);
      await intake.getByRole('heading', { name: 'Weather' }).waitFor();
      expect(await intake.content()).not.toMatch(/Passage|Incoming referrals|Sign in/);
    }
  });

  it('locks a quiet screen after the idle time; the password reopens the same session', async () => {
    const intake = await ui.as('london-intake');
    await intake.goto('/inbox');
    await intake.getByRole('heading', { name: 'Incoming referrals' }).waitFor();
    // No input from here: the lock comes by itself (IDLE_LOCK_MINUTES is half a minute here).
    await intake.getByRole('heading', { name: 'Locked' }).waitFor({ timeout: 120_000 });
    expect(await intake.content()).not.toContain('Incoming referrals');
    expect(await intake.title()).toBe('Passage');
    expect(await seriousViolations(intake)).toEqual([]);
    const refused = await intake.request.get('/api/session');
    expect(refused.status()).toBe(401);
    expect(((await refused.json()) as { reason?: string }).reason).toBe('locked');

    await intake.locator('input[name="password"]').fill('not-the-password');
    await intake.getByRole('button', { name: 'Unlock' }).click();
    await intake.getByText('That is not your password').waitFor();
    await intake.locator('input[name="password"]').fill(demoPassword);
    await intake.getByRole('button', { name: 'Unlock' }).click();
    await intake.getByRole('heading', { name: 'Incoming referrals' }).waitFor();
    expect(intake.url()).toMatch(/\/inbox$/);
    expect((await intake.request.get('/api/session')).status()).toBe(200);
  });

  it('prints a discreet receipt that names no service and no word of trafficking (EN/FR)', async () => {
    const officer = await ui.as('peel-officer');
    await officer.waitForURL(/\/handoff$/);
    await officer.getByText('Read this to the person').waitFor();
    await officer.getByLabel('Shelter', { exact: true }).check();
    await officer.getByLabel('Where is the person?').selectOption('london');
    await officer.getByLabel('Priority').selectOption('PRIORITY_URGENT');
    await officer.getByRole('button', { name: 'Find agencies' }).click();
    await officer.getByRole('radio', { name: new RegExp(`^${london}`) }).check();
    // After hours London is closed: send to London only (the crisis line is ADR 41's, not this test's).
    const only = officer.getByRole('radio', { name: `${london} only, when it opens` });
    if ((await only.count()) > 0) await only.check();
    await officer.locator('textarea[name="packet-needs"]').fill('Synthetic: a safe bed tonight');
    await officer.getByRole('button', { name: 'Record consent and send' }).click();
    const receipt = officer.locator('pre.receipt-text');
    await expect.poll(() => receipt.textContent()).toContain(london);

    await officer.getByLabel('Discreet receipt').check();
    await expect.poll(() => receipt.textContent()).toContain('Service A');
    const markers = [/traffick/i, /traite/i, /anti-human/i, /coalition/i, /victim/i, /police/i, /crisis/i, /Passage/];
    const english = (await receipt.textContent()) ?? '';
    expect(markers.filter((marker) => marker.test(english))).toEqual([]);
    await officer.getByLabel('Receipt language').selectOption('fr');
    await expect.poll(() => receipt.textContent()).toContain('Votre reçu de consentement');
    const french = (await receipt.textContent()) ?? '';
    expect(french).toContain('Service A');
    expect(markers.filter((marker) => marker.test(french))).toEqual([]);
  });

  it('locks every open tab at once when one signs out', async () => {
    const first = await ui.as('london-intake');
    await first.goto('/inbox');
    await first.getByRole('heading', { name: 'Incoming referrals' }).waitFor();
    const second = await first.context().newPage();
    await second.goto('/inbox');
    await second.getByRole('heading', { name: 'Incoming referrals' }).waitFor();

    await first.getByRole('button', { name: 'Sign out' }).click();
    await first.getByRole('heading', { name: 'Sign in to Passage' }).waitFor();
    // The other tab, untouched: it shows the sign-in page by itself, nothing of the inbox.
    await second.getByRole('heading', { name: 'Sign in to Passage' }).waitFor();
    expect(await second.content()).not.toContain('Incoming referrals');
    expect((await second.request.get('/api/session')).status()).toBe(401);
  });
});
