import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ApiUser, consentAndSend } from './console/api.ts';
import { screenshot, seriousViolations, switchTo, widths } from './console/browser.ts';
import { openConsole } from './console/open.ts';

// The oversight page as a ministry auditor uses it (issue 18): loop closure beside the
// hand-off times, every figure opening the referrals behind it, each table exported as CSV,
// charts that stay readable on a phone; in English and French, at 1280 and 390 px. A network,
// database and NATS namespace of this file's own (openConsole).
const ui = openConsole('console-oversight');
const declined: string[] = [];
const closed: string[] = [];

/** A referral Peel sends London, taken by London to declined or closed with the gateway's API. */
async function referralTo(state: 'closed' | 'declined'): Promise<string> {
  const officer = await ApiUser.signIn(ui.base, 'peel-officer');
  const { referralId } = await consentAndSend(officer, {
    from: 'peel-regional-police',
    to: 'london-coalition',
    needs: ['housing'],
    content: `Synthetic packet text, never in a report: ${state}`,
  });
  const intake = await ApiUser.signIn(ui.base, 'london-intake');
  const path = `/api/referrals/${referralId}`;
  if (state === 'declined') await intake.call('POST', `${path}/decline`, { reason: 'no_capacity' });
  if (state === 'closed') {
    await intake.call('POST', `${path}/acknowledge`, {});
    await intake.call('POST', `${path}/accept`, {});
    await intake.call('POST', `${path}/contact`, { method: 'phone', at: new Date().toISOString() });
    await intake.call('POST', `${path}/close`, { outcome: 'services_provided' });
  }
  return referralId;
}

/** The oversight page once the audit log has every referral: the loop-closure total shows 5 closed. */
async function openOversight(page: Page, closedText: RegExp): Promise<void> {
  await page.goto('/oversight');
  const total = page.locator('section[aria-labelledby="loop-closure"] tfoot');
  await expect
    .poll(
      async () => {
        await page.reload();
        await page.locator('h1').first().waitFor();
        await page.waitForLoadState('networkidle');
        return (await total.count()) > 0 ? ((await total.textContent()) ?? '') : '';
      },
      { timeout: 60_000, interval: 500 },
    )
    .toMatch(closedText);
}

async function download(page: Page, button: ReturnType<Page['getByRole']>): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const path = await file.path();
  return readFile(path, 'utf8');
}

beforeAll(async () => {
  for (let i = 0; i < 5; i += 1) {
    closed.push(await referralTo('closed'));
    declined.push(await referralTo('declined'));
  }
}, 300_000);

describe('oversight: loop closure, drill-down and CSV', { timeout: 240_000 }, () => {
  it('shows loop closure, opens a figure, exports it and the tables (English, 1280 px)', async () => {
    const auditor = await ui.as('auditor');
    await openOversight(auditor, /5 \(50%\)/);
    const loop = auditor.locator('section[aria-labelledby="loop-closure"]');
    await loop.getByRole('heading', { name: 'Loop closure' }).waitFor();
    const headers = await loop.locator('thead th').allTextContents();
    expect(headers).toEqual(expect.arrayContaining(['Outcome recorded', 'Declined', 'Sent on to another agency']));
    await screenshot(auditor, 'oversight-loop-1280-en');

    // The total row's declined figure opens the five declined referrals: ids, agencies, states, times.
    await loop
      .locator('tfoot')
      .getByRole('button', { name: /^Declined: 5 \(50%\)\. Show these referrals$/ })
      .click();
    const drill = auditor.locator('section.drill');
    await drill.getByRole('heading', { name: 'Referrals: Declined — Total' }).waitFor();
    await expect.poll(() => drill.locator('tbody tr').count()).toBe(5);
    const listed = (await drill.locator('tbody').textContent()) ?? '';
    expect(listed).not.toContain('Synthetic');
    expect(await drill.locator('tbody tr td:nth-child(5)').allTextContents()).toEqual(Array(5).fill('Declined'));
    await screenshot(auditor, 'oversight-drill-1280-en');

    const csv = await download(auditor, drill.getByRole('button', { name: /^Export CSV/ }));
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^Referral,From,To,Priority,State,Sent,/);
    expect(lines).toHaveLength(6);
    expect(
      lines
        .slice(1)
        .map((line) => line.split(',')[0])
        .sort(),
    ).toEqual([...declined].sort());
    expect(lines.slice(1).every((line) => line.includes(',declined,'))).toBe(true);
    // And the short reference people read out, in the last column.
    expect(lines.slice(1).every((line) => /,R-[0-9A-Z]{4}-[0-9A-Z]{2}$/.test(line))).toBe(true);
    expect(csv).not.toContain('Synthetic');

    // Every table of the page exports: loop closure with its rates, the outcome mix, the hand-off times.
    const loopCsv = await download(auditor, auditor.getByRole('button', { name: 'Export CSV — Loop closure' }));
    expect(loopCsv.split('\r\n')[0]).toMatch(
      /^Group,Referrals,Outcome recorded,Loop-closure rate,Declined,Decline rate,/,
    );
    expect(loopCsv).toMatch(/\r\nTotal,10,5,0\.5,5,0\.5,/);
    const mixCsv = await download(auditor, auditor.getByRole('button', { name: 'Export CSV — Outcome mix' }));
    expect(mixCsv).toMatch(/^Group,Closed: Services provided,Declined\r\n/);
    const timesCsv = await download(auditor, auditor.getByRole('button', { name: 'Export CSV — Hand-off times' }));
    expect(timesCsv.split('\r\n')[0]).toMatch(/^Group,Referrals,/);

    expect(await seriousViolations(auditor)).toEqual([]);
  });

  it('reads on a phone: labels at 12 px or more, names whole, a table behind each chart (390 px, English and French)', async () => {
    const auditor = await ui.as('auditor', widths.phone);
    await openOversight(auditor, /5 \(50%\)/);
    const labels = auditor.locator('.chart-label');
    expect(await labels.count()).toBeGreaterThan(0);
    // In-page code as text: the tests are type-checked for Node, which has no DOM.
    const sizes = await auditor.evaluate<number[]>(
      `[...document.querySelectorAll('.chart-label, .chart-value, .chart-legend')].map((n) => parseFloat(getComputedStyle(n).fontSize))`,
    );
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(12);
    const names = await labels.allTextContents();
    expect(names.every((name) => !name.endsWith('…'))).toBe(true);
    expect(names).toContain('London Anti-Human Trafficking Coalition');
    // The page does not scroll sideways; wide tables scroll inside their own box.
    expect(await auditor.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    expect(await auditor.locator('figure.chart .visually-hidden table caption').first().textContent()).toMatch(
      /: the same figures as a table$/,
    );
    await screenshot(auditor, 'oversight-loop-390-en');

    await switchTo(auditor, 'fr');
    const loop = auditor.locator('section[aria-labelledby="loop-closure"]');
    await loop.getByRole('heading', { name: 'Boucle bouclée' }).waitFor();
    await loop
      .locator('tfoot')
      .getByRole('button', { name: /^Résultat consigné : 5 \(50\s?%\)\. Afficher ces demandes$/ })
      .click();
    const drill = auditor.locator('section.drill');
    await drill.getByRole('heading', { name: 'Demandes : Résultat consigné — Total' }).waitFor();
    await expect.poll(() => drill.locator('tbody tr').count()).toBe(5);
    await screenshot(auditor, 'oversight-drill-390-fr');
    const csv = await download(auditor, drill.getByRole('button', { name: /^Exporter en CSV/ }));
    expect(
      csv
        .trim()
        .split('\r\n')
        .slice(1)
        .map((line) => line.split(',')[0])
        .sort(),
    ).toEqual([...closed].sort());
    expect(await seriousViolations(auditor)).toEqual([]);
  });
});
