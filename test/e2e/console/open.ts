import { afterAll, beforeAll } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startGatewayLab, type GatewayLab } from '@passage/gateway/testing';
import { demoPassword } from './api.ts';
import { launch, signIn, widths } from './browser.ts';

/** What a browser test drives: the console as the gateway serves it, and a browser to look at it with. */
export interface OpenConsole {
  /** The gateway's address: the built console at /, its API at /api. */
  readonly base: string;
  readonly browser: Browser;
  /** The network behind the gateway (its database: `lab.n.db.url`, `lab.n.sql`). */
  readonly lab: GatewayLab;
  /** A browser profile of its own (its own cookies) on a blank page, closed after the file. */
  page(viewport?: Viewport): Promise<Page>;
  /** A browser profile of its own, signed in as a demo user. */
  as(username: string, viewport?: Viewport): Promise<Page>;
}

type Viewport = { readonly width: number; readonly height: number };

/**
 * The console of a browser test file, opened before its first test and closed after its last:
 * the whole network in this process (`startGatewayLab`: every service real, on a database and
 * NATS namespace of the file's own, the gateway calling them over mutual TLS), the gateway
 * serving the console build (the `browser` project's global set-up builds it when stale), the
 * seeded Ontario directory and the demo users with their password `passage-demo`; and a
 * headless chromium. `env`: the gateway's settings for this file (QUICK_EXIT_URL,
 * IDLE_LOCK_MINUTES, …), or a function giving them when the console opens (after the file's own
 * earlier beforeAll hooks, such as a server whose address is a setting). Sign-ins are not throttled (SIGN_IN_PER_MINUTE=1000): many from one
 * address in a few minutes are the test's, not an attack.
 *
 * Six processes (`pnpm start`) per file cost a minute or more of start on a loaded machine for
 * nothing the browser can see; network.test.ts keeps proving `pnpm start` itself (ADR 43).
 */
export function openConsole(
  label: string,
  env: Record<string, string> | (() => Record<string, string>) = {},
): OpenConsole {
  let lab: GatewayLab | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the console is opened in beforeAll: use it inside a test or hook');
    return value;
  };
  const opened: OpenConsole = {
    get base() {
      return started(lab).gateway.url;
    },
    get browser() {
      return started(browser);
    },
    get lab() {
      return started(lab);
    },
    async page(viewport = widths.desktop) {
      const context = await started(browser).newContext({
        baseURL: opened.base,
        viewport,
        timezoneId: 'America/Toronto',
      });
      contexts.push(context);
      return context.newPage();
    },
    async as(username, viewport = widths.desktop) {
      const page = await opened.page(viewport);
      await signIn(page, username);
      return page;
    },
  };
  beforeAll(async () => {
    const settings = typeof env === 'function' ? env() : env;
    lab = await startGatewayLab(label, { DEMO_PASSWORD: demoPassword, SIGN_IN_PER_MINUTE: '1000', ...settings });
    browser = await launch();
  }, 300_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await lab?.stop();
  });
  return opened;
}
