import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { demoPassword } from './api.ts';

// Driving Debian's chromium (apt-get install chromium; .ci/run installs it) with
// playwright-core: headless, no sandbox (root in CI), and no background networking, which
// this machine's closed network would refuse.

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const artifactsDir = join(new URL('../../../', import.meta.url).pathname, '.tmp', 'console-screenshots');
export const widths = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Signs `page` (at no page yet, or any) in as a demo user, through the sign-in form. */
export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(demoPassword);
  await page.locator('form button[type="submit"]').click();
  await page.locator('nav.nav').waitFor();
}

/** Switches the console's language from its header, and waits for the page to say so. */
export async function switchTo(page: Page, language: 'en' | 'fr'): Promise<void> {
  await page.getByRole('button', { name: language === 'fr' ? /Français/ : /English/ }).click();
  await expect.poll(() => page.evaluate<string>('document.documentElement.lang')).toBe(language);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's WCAG 2.x A/AA rules (2.2 included) over the page as it is now: serious and critical findings. */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource }).catch(async () => {
    // The console's CSP refuses inline scripts: put axe in through the debugging protocol instead.
    await page.evaluate(axeSource);
  });
  // In-page code as text: the tests are type-checked for Node, which has no DOM.
  const violations = await page.evaluate<AxeViolation[]>(`axe
    .run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
    .then((result) => result.violations)`);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact ?? ''}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Visible text of the page that is meant to be in the page's language: elements marked with
 * another `lang` (the language switch, a consent script or receipt read in the other
 * language) are left out, as a screen reader would switch voice for them.
 */
export async function textInPageLanguage(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const pageLanguage = document.documentElement.lang;
    const parts = [];
    const walk = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return parts.push(node.textContent ?? '');
      if (!(node instanceof Element)) return;
      const lang = node.getAttribute('lang');
      if (lang && lang !== pageLanguage) return;
      if (node.tagName === 'SCRIPT' || node.tagName === 'STYLE') return;
      if (node.tagName === 'OPTION') return parts.push(node.text);
      for (const child of node.childNodes) walk(child);
      const label = node.getAttribute('aria-label');
      if (label) parts.push(label);
    };
    walk(document.body);
    parts.push(document.title);
    return parts.join('\\n');
  })()`);
}
