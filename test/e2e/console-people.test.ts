import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { screenshot, seriousViolations, widths } from './console/browser.ts';
import { noEnglishOn } from './console/french.ts';
import { openConsole } from './console/open.ts';

// Onboarding an agency and its people from the console alone, as a new ministry
// administrator would (ADR 30): a directory listing, its first supervisor with a temporary
// password, the supervisor's own first hire, and an account ended with its open session.
// Every service, real, behind the gateway serving the built console (openConsole), in a real browser.
const ui = openConsole('console-people');

/** A fresh browser profile at the sign-in page. */
async function freshPage(viewport: { width: number; height: number } = widths.desktop): Promise<Page> {
  const page = await ui.page(viewport);
  await page.goto('/');
  await page.getByRole('heading', { name: 'Sign in to Passage' }).waitFor();
  return page;
}

/**
 * Signs in with a temporary password, and chooses one's own at the step that comes first
 * (`heading`: its title in the person's language).
 */
async function firstSignIn(
  page: Page,
  username: string,
  temporary: string,
  chosen: string,
  heading: string,
): Promise<void> {
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(temporary);
  await page.locator('form button[type="submit"]').click();
  await page.getByRole('heading', { name: heading }).waitFor();
  // Nothing else is open until then: no menus.
  expect(await page.locator('nav.nav').count()).toBe(0);
  await page.locator('input[name="current-password"]').fill(temporary);
  await page.locator('input[name="new-password"]').fill(chosen);
  await page.locator('input[name="confirm-password"]').fill(chosen);
  await page.locator('form button[type="submit"]').click();
  await page.locator('nav.nav').waitFor();
}

/** The password shown once on the people screen after adding someone. */
async function issuedPassword(page: Page, username: string): Promise<string> {
  await page.getByRole('heading', { name: `Temporary password for ${username}` }).waitFor();
  await page.getByText('shown only this once').waitFor();
  await screenshot(page, `people-issued-${username}`);
  const secret = (await page.getByTestId('issued-credential').textContent())?.trim() ?? '';
  expect(secret.length).toBeGreaterThanOrEqual(12);
  await page.getByRole('button', { name: 'I have copied it: hide it' }).click();
  return secret;
}

describe('onboarding an agency from the console', { timeout: 300_000 }, () => {
  it('lists an agency, adds its supervisor, who adds an intake worker the administrator later disables', async () => {
    const agencyId = 'sudbury-synthetic-shelter';
    const agencyName = 'Synthetic Sudbury Shelter';

    // The ministry's administrator lists a new agency in the directory…
    const admin = await ui.as('admin');
    await admin.getByRole('link', { name: 'Directory' }).click();
    await admin.getByRole('button', { name: 'Add an agency' }).click();
    await admin.getByLabel('Identifier (letters, digits and dashes)').fill(agencyId);
    await admin.getByLabel('Name in English').fill(agencyName);
    await admin.getByLabel('Name in French').fill('Refuge synthétique de Sudbury');
    await admin.getByLabel('Kind').selectOption('shelter');
    await admin.getByLabel('Shelter', { exact: true }).check();
    await admin.getByLabel('Municipalities served').fill('sudbury');
    await admin.getByLabel('Open 24/7').check();
    await admin.getByRole('button', { name: 'Save', exact: true }).click();
    await admin.getByText(`Saved ${agencyName}.`).waitFor();

    // …and goes straight on to its first supervisor.
    await admin.getByRole('link', { name: `Add the first supervisor of ${agencyName}` }).click();
    await admin.waitForURL(/\/people\?/);
    await admin.getByRole('heading', { name: 'Add a person' }).waitFor();
    await expect.poll(() => admin.getByLabel('Agency', { exact: true }).inputValue()).toBe(agencyId);
    await expect
      .poll(() => admin.getByLabel('Agency', { exact: true }).locator('option:checked').textContent())
      .toBe(agencyName);
    expect(await admin.getByLabel('Supervisor', { exact: true }).isChecked()).toBe(true);
    // The administrator may grant every role.
    for (const role of ['Officer', 'Intake worker', 'Auditor', 'Administrator'])
      await admin.getByLabel(role, { exact: true }).waitFor();
    // A refused value is shown beside its field.
    await admin.getByLabel('Full name').fill('Synthetic Supervisor');
    await admin.getByLabel('User name').fill('Not A Slug');
    await admin.getByRole('button', { name: 'Add and issue a password' }).click();
    await admin.getByRole('alert').first().waitFor();
    await admin.locator('.field-problem').filter({ hasText: 'lowercase letters and digits' }).waitFor();
    expect(await admin.getByLabel('User name').getAttribute('aria-invalid')).toBe('true');
    await admin.getByLabel('User name').fill('sudbury-supervisor');
    await admin.getByLabel('How they get their first password').selectOption('CREDENTIAL_TEMPORARY_PASSWORD');
    await admin.getByRole('button', { name: 'Add and issue a password' }).click();
    const supervisorTemporary = await issuedPassword(admin, 'sudbury-supervisor');
    const row = admin.getByRole('row', { name: /Synthetic Supervisor/ });
    await expect.poll(() => row.textContent()).toContain('Must choose a password');
    await admin.getByRole('button', { name: 'Sign out' }).click();
    await admin.getByRole('heading', { name: 'Sign in to Passage' }).waitFor();

    // The supervisor signs in with it, on a phone, and must choose a password first.
    const supervisor = await freshPage(widths.phone);
    await firstSignIn(
      supervisor,
      'sudbury-supervisor',
      supervisorTemporary,
      'synthetic sudbury supervisor words',
      'Choose your own password',
    );
    await supervisor.getByRole('link', { name: 'People' }).click();
    await supervisor.getByRole('heading', { name: 'People', exact: true }).waitFor();
    await supervisor.getByText(`Agency: ${agencyName}`).first().waitFor();
    // Their agency's people only, and no other agency to choose.
    expect(await supervisor.getByLabel('Show the people of').count()).toBe(0);
    await supervisor.getByRole('button', { name: 'Add a person' }).click();
    await supervisor.getByRole('heading', { name: 'Add a person' }).waitFor();
    expect(await supervisor.getByLabel('Agency', { exact: true }).count()).toBe(0);
    for (const role of ['Officer', 'Crisis counsellor', 'Intake worker', 'Supervisor'])
      await supervisor.getByLabel(role, { exact: true }).waitFor();
    for (const role of ['Auditor', 'Administrator'])
      expect(await supervisor.getByLabel(role, { exact: true }).count()).toBe(0);
    await supervisor.getByLabel('Full name').fill('Synthetic Intake');
    await supervisor.getByLabel('User name').fill('sudbury-intake');
    await supervisor.getByLabel('Intake worker', { exact: true }).check();
    // A French-speaking colleague: their console is French from the first screen.
    await supervisor.getByLabel('Language of their console').selectOption('fr');
    await supervisor.getByLabel('How they get their first password').selectOption('CREDENTIAL_TEMPORARY_PASSWORD');
    await supervisor.getByRole('button', { name: 'Add and issue a password' }).click();
    const intakeTemporary = await issuedPassword(supervisor, 'sudbury-intake');
    // Their own agency's people and nobody else (the demo network's other agencies have people too).
    const names = supervisor.locator('tbody th');
    await expect.poll(() => names.count()).toBeGreaterThan(0);
    await expect
      .poll(async () => (await names.allTextContents()).sort())
      .toEqual(['Synthetic Intake', 'Synthetic Supervisor']);
    // Another agency asked for by address changes nothing: still their own agency's people.
    await supervisor.goto('/people?agency=london-coalition');
    await supervisor.getByRole('heading', { name: 'People with access' }).waitFor();
    await expect.poll(() => names.count()).toBeGreaterThan(0);
    expect((await names.allTextContents()).sort()).toEqual(['Synthetic Intake', 'Synthetic Supervisor']);
    const problems = (await seriousViolations(supervisor)).map((v) => `people @phone: ${v}`);
    const overflow = await supervisor.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect({ problems, overflow: overflow > 1 }).toEqual({ problems: [], overflow: false });

    // The intake worker signs in, in French, and starts work.
    const intake = await freshPage();
    await intake.locator('input[name="username"]').fill('sudbury-intake');
    await intake.locator('input[name="password"]').fill(intakeTemporary);
    await intake.locator('form button[type="submit"]').click();
    await intake.getByRole('heading', { name: 'Choisissez votre mot de passe' }).waitFor();
    await noEnglishOn(ui.base, intake, 'change password');
    await intake.locator('input[name="current-password"]').fill(intakeTemporary);
    await intake.locator('input[name="new-password"]').fill('trop court');
    await intake.locator('input[name="confirm-password"]').fill('trop court');
    await intake.locator('form button[type="submit"]').click();
    await intake.locator('.field-problem').filter({ hasText: 'un mot de passe de 12 à 200 caractères' }).waitFor();
    // The gateway's own refusal (a wrong current password) is shown beside its field, in French.
    await intake.locator('input[name="current-password"]').fill('not the temporary one');
    await intake.locator('input[name="new-password"]').fill('synthetic sudbury intake words');
    await intake.locator('input[name="confirm-password"]').fill('synthetic sudbury intake words');
    await intake.locator('form button[type="submit"]').click();
    await intake.locator('.field-problem').filter({ hasText: 'mot de passe erroné' }).waitFor();
    expect(await intake.locator('input[name="current-password"]').getAttribute('aria-invalid')).toBe('true');
    await intake.getByRole('alert').filter({ hasText: 'Certains champs sont à corriger.' }).waitFor();
    await noEnglishOn(ui.base, intake, 'change password, refused');
    await intake.locator('input[name="current-password"]').fill(intakeTemporary);
    await screenshot(intake, 'change-password-refused-fr');
    await intake.locator('input[name="new-password"]').fill('synthetic sudbury intake words');
    await intake.locator('input[name="confirm-password"]').fill('synthetic sudbury intake words');
    await intake.locator('form button[type="submit"]').click();
    await intake.waitForURL(/\/inbox$/);
    await intake.getByRole('heading', { name: 'Demandes reçues' }).waitFor();

    // The administrator disables the intake worker: their open session ends with it.
    const again = await ui.as('admin');
    await again.goto(`/people?agency=${agencyId}`);
    await again.getByRole('button', { name: 'Manage Synthetic Intake' }).click();
    await again.getByRole('heading', { name: 'Managing Synthetic Intake' }).waitFor();
    // Their open session is listed.
    await again
      .locator('li', { hasText: /^Signed in .+, until .+/ })
      .first()
      .waitFor();
    await again.getByRole('button', { name: 'Disable this account' }).click();
    await again.getByRole('button', { name: 'Disable now' }).click();
    await again.getByText('Account disabled. Sessions ended: 1.').waitFor();
    await expect.poll(() => again.getByRole('row', { name: /Synthetic Intake/ }).textContent()).toContain('Disabled');

    // The intake worker's next step sends them to the sign-in page (unless their live feed,
    // closed by the gateway, already has), and they cannot sign in again.
    await intake
      .getByRole('link', { name: 'Demandes envoyées' })
      .click({ timeout: 5_000 })
      .catch(() => undefined);
    await intake.getByRole('heading', { name: 'Connexion à Passage' }).waitFor({ timeout: 30_000 });
    await intake.locator('input[name="username"]').fill('sudbury-intake');
    await intake.locator('input[name="password"]').fill('synthetic sudbury intake words');
    await intake.locator('form button[type="submit"]').click();
    await intake.getByText('Le nom d’utilisateur·rice et le mot de passe ne correspondent pas').waitFor();

    // Enabled again, they can sign in with their own password.
    await again.getByRole('button', { name: 'Enable this account' }).click();
    await again.getByText('Account enabled: they can sign in again.').waitFor();
    await intake.locator('input[name="password"]').fill('synthetic sudbury intake words');
    await intake.locator('form button[type="submit"]').click();
    await intake.locator('nav.nav').waitFor();
  });

  it('sets a first password by a one-time link, resets it, links an identity-provider account, and reads in French', async () => {
    const admin = await ui.as('admin');
    // A person of this test's own, by the administrator: a one-time link this time.
    await admin.goto('/people');
    await admin.getByRole('button', { name: 'Add a person' }).click();
    await admin.getByLabel('Full name').fill('Synthetic Linked');
    await admin.getByLabel('User name').fill('london-synthetic');
    await admin.getByLabel('Agency', { exact: true }).selectOption('london-coalition');
    await admin.getByLabel('Officer', { exact: true }).check();
    // The one-time link is what is offered first.
    expect(await admin.getByLabel('How they get their first password').inputValue()).toBe('CREDENTIAL_LINK');
    await admin.getByRole('button', { name: 'Add and issue a password' }).click();
    await admin.getByRole('heading', { name: 'Set-password link for london-synthetic' }).waitFor();
    const link = (await admin.getByTestId('issued-credential').textContent())?.trim() ?? '';
    expect(link).toMatch(/\/set-password#.+/);

    // The link's page, in a browser with nobody signed in: the password is set once.
    const person = await freshPage(widths.phone);
    await person.goto(link);
    await person.getByRole('heading', { name: 'Set your password' }).waitFor();
    // The token leaves the address bar at once.
    await expect.poll(() => person.url()).not.toContain('#');
    expect(await seriousViolations(person)).toEqual([]);
    await person.locator('input[name="new-password"]').fill('synthetic london linked words');
    await person.locator('input[name="confirm-password"]').fill('synthetic london linked words');
    await person.getByRole('button', { name: 'Set my password' }).click();
    await person.getByText('Your password is set. Sign in as london-synthetic.').waitFor();
    await person.getByRole('link', { name: 'Go to the sign-in page' }).click();
    await person.locator('input[name="username"]').fill('london-synthetic');
    await person.locator('input[name="password"]').fill('synthetic london linked words');
    await person.locator('form button[type="submit"]').click();
    await person.locator('nav.nav').waitFor();
    // A spent link does nothing.
    const again = await freshPage();
    await again.goto(link);
    await again.locator('input[name="new-password"]').fill('another synthetic password');
    await again.locator('input[name="confirm-password"]').fill('another synthetic password');
    await again.getByRole('button', { name: 'Set my password' }).click();
    await again.getByText('This link has been used or has expired.').waitFor();

    // A reset ends the person's session: the old password and the spent link no longer work.
    await admin.goto('/people?agency=london-coalition');
    await admin.getByRole('button', { name: 'Manage Synthetic Linked' }).click();
    await admin.getByLabel('How they get their new password').selectOption('CREDENTIAL_TEMPORARY_PASSWORD');
    await admin.getByRole('button', { name: 'Reset the password' }).click();
    await admin.getByRole('button', { name: 'Reset now' }).click();
    const temporary = await issuedPassword(admin, 'london-synthetic');
    await admin.getByText('Password reset.').waitFor();
    await person.reload();
    await person.getByRole('heading', { name: 'Sign in to Passage' }).waitFor();
    await person.locator('input[name="username"]').fill('london-synthetic');
    await person.locator('input[name="password"]').fill(temporary);
    await person.locator('form button[type="submit"]').click();
    await person.getByRole('heading', { name: 'Choose your own password' }).waitFor();

    // An identity-provider account linked to the person, then unlinked.
    await admin.getByLabel('Issuer address').fill('https://idp.synthetic.example');
    await admin.getByLabel('Subject', { exact: true }).fill('synthetic-subject-1');
    await admin.getByRole('button', { name: 'Link this account' }).click();
    await admin.getByText('Identity-provider account linked.').waitFor();
    await admin.getByRole('button', { name: 'Unlink synthetic-subject-1' }).click();
    await admin.getByText('Identity-provider account unlinked.').waitFor();
    await admin.getByText('No identity-provider account is linked.').waitFor();

    // The administrator's screen in French: the list, the form, a person's panel.
    await admin.getByRole('button', { name: /^Français/ }).click();
    await admin.goto('/people?agency=london-coalition');
    await admin.getByRole('heading', { name: 'Personnel', exact: true }).waitFor();
    const row = admin.getByRole('row', { name: /Synthetic Linked/ });
    await row.waitFor();
    // By keyboard: the panel opens with the focus on its heading.
    await row.getByRole('button', { name: 'Gérer Synthetic Linked' }).focus();
    await admin.keyboard.press('Enter');
    await admin.getByRole('heading', { name: 'Gestion : Synthetic Linked' }).waitFor();
    await expect
      .poll(() => admin.evaluate<string>('(document.activeElement?.textContent ?? "").replace(/\\s+/g, " ")'))
      .toBe('Gestion : Synthetic Linked');
    await admin
      .locator('li', { hasText: /^Connexion le / })
      .first()
      .waitFor();
    await noEnglishOn(ui.base, admin, 'people, a person managed');
    // Their sessions, ended from here.
    await admin.getByRole('button', { name: 'Fermer toutes les sessions' }).click();
    await admin.getByText('Sessions fermées\u00a0: 1.').waitFor();
    await admin.getByText('Aucune session ouverte.').waitFor();
    await screenshot(admin, 'people-managed-fr');
    await admin.getByRole('button', { name: 'Ajouter une personne' }).click();
    await admin.getByRole('button', { name: 'Ajouter et émettre un mot de passe' }).click();
    await admin.locator('.field-problem').first().waitFor();
    await noEnglishOn(ui.base, admin, 'people, refused form');
  });
  it('connects an agency’s system: its secret, shown once, gets a token; a new one ends the old; disconnecting ends it; in French too', async () => {
    const admin = await ui.as('admin');
    const base = ui.base;
    const system = 'Synthetic PACT case management';
    const tokenWith = async (clientId: string, secret: string) =>
      fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
    const issuedSecret = async () => {
      const heading = admin.getByRole('heading', { name: /^Credential for client-/ });
      await heading.waitFor();
      const clientId = /client-[0-9a-f]{12}/.exec((await heading.textContent()) ?? '')?.[0] ?? '';
      const secret = (await admin.getByTestId('issued-client-secret').textContent())?.trim() ?? '';
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      return { clientId, secret };
    };

    // The administrator's console may still be in French from an earlier test: English first.
    const english = admin.getByRole('button', { name: /^English/ });
    if ((await english.count()) > 0) await english.click();
    await admin.goto('/people?agency=pact-ottawa');
    await admin.getByRole('heading', { name: 'Agency systems' }).waitFor();
    await admin.getByText('No system is connected.').waitFor();
    await admin.getByRole('button', { name: 'Connect a system' }).click();
    await admin.getByLabel('System', { exact: true }).fill(system);
    await admin.getByLabel('Agency', { exact: true }).selectOption('pact-ottawa');
    await admin.getByRole('button', { name: 'Connect and issue its credential' }).click();
    const first = await issuedSecret();
    await admin.getByText(`Token endpoint: `, { exact: false }).waitFor();
    expect(await seriousViolations(admin)).toEqual([]);
    await screenshot(admin, 'clients-issued');
    const token = (await (await tokenWith(first.clientId, first.secret)).json()) as { access_token: string };
    const inbox = await fetch(`${base}/api/inbox`, { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(inbox.status).toBe(200);
    await admin.getByRole('button', { name: 'I have copied it: hide it' }).click();

    // A new secret: the old one, and its token, end at once.
    await admin.getByRole('button', { name: `Manage ${system}` }).click();
    await admin.getByRole('button', { name: 'Issue a new credential' }).click();
    await admin.getByRole('button', { name: 'Issue it now' }).click();
    const second = await issuedSecret();
    expect(second).toEqual({ clientId: first.clientId, secret: expect.not.stringMatching(first.secret) });
    expect((await tokenWith(first.clientId, first.secret)).status).toBe(401);
    expect((await tokenWith(second.clientId, second.secret)).status).toBe(200);
    await admin.getByRole('button', { name: 'I have copied it: hide it' }).click();

    // Disconnected: no more tokens, and the one it holds ends.
    const held = (await (await tokenWith(second.clientId, second.secret)).json()) as { access_token: string };
    await admin.getByRole('button', { name: 'Disconnect this system' }).click();
    await admin.getByRole('button', { name: 'Disconnect now' }).click();
    await admin.getByText('Disconnected. Access tokens ended: 2.').waitFor();
    await admin
      .getByRole('row', { name: new RegExp(system) })
      .getByText(/^Ended /)
      .waitFor();
    const after = await fetch(`${base}/api/inbox`, { headers: { authorization: `Bearer ${held.access_token}` } });
    expect(after.status).toBe(401);
    expect((await tokenWith(second.clientId, second.secret)).status).toBe(401);

    await admin.getByRole('button', { name: /^Français/ }).click();
    await admin.goto('/people?agency=pact-ottawa');
    await admin.getByRole('heading', { name: 'Systèmes des organismes' }).waitFor();
    await admin
      .getByRole('row', { name: new RegExp(system) })
      .getByText(/^Déconnecté le /)
      .waitFor();
    await admin.getByRole('button', { name: 'Connecter un système' }).click();
    await admin.getByLabel('Comment il prouve son identité').selectOption('CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT');
    await admin.getByLabel('Sa clé publique (JWK)').waitFor();
    await noEnglishOn(base, admin, 'people, agency systems');
  });
});
