/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { ADMIN_TOKEN } from '../helpers/herald.js';
import { watchErrors } from './browser.js';

/**
 * A page of a fresh browser context already signed in with the admin token
 * (put in sessionStorage before any script runs, as the sign-in form would),
 * for tests about what comes after signing in. `errors` collects what the
 * page logs; `expected` lists console errors the test provokes on purpose.
 */
export async function signedInPage(
  browser: Browser,
  opts: { width?: number; height?: number; expected?: RegExp[] } = {},
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 } });
  await context.addInitScript((token) => sessionStorage.setItem('herald.token', token), ADMIN_TOKEN);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { page, errors: watchErrors(page, opts.expected) };
}


type Closable = { close(): Promise<unknown> } | { stop(): Promise<unknown> } | undefined;

/** Closes what a test file started (browser, Herald, receivers), in order, skipping what never started. */
export async function closeAll(...things: Closable[]): Promise<void> {
  for (const t of things) {
    if (!t) continue;
    await ('stop' in t ? t.stop() : t.close());
  }
}
