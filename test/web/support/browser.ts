/**
 * What every Chromium test of the viewer shares: one real server (support/viewer-server.ts) and
 * one headless Chromium per test file, signed-in pages, and waiting for the table's answer.
 */
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import {
  PASSWORD,
  PEOPLE,
  WORKSPACE,
  startViewerServer,
  type ViewerServer,
} from './viewer-server.js';

export const SCREENSHOTS = new URL('../../../docs/screenshots/', import.meta.url).pathname;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'Chromium is not installed: apt-get install -y chromium (CI does it in .ci/run)',
    );
  }
}

/** Live bindings: set by useViewer()'s beforeAll. */
export let server: ViewerServer;
export let browser: Browser;
const contexts: BrowserContext[] = [];

/** Starts one server and one Chromium for the calling test file, and stops them after it. */
export function useViewer(): void {
  beforeAll(async () => {
    [server, browser] = await Promise.all([
      startViewerServer(),
      chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS }),
    ]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.close();
  });
}

export interface Session {
  readonly page: Page;
  /** Console errors, CSP reports and uncaught exceptions seen by the page. */
  readonly problems: string[];
}

export async function open(
  viewport = { width: 1280, height: 900 },
  options: { timezoneId?: string } = {},
): Promise<Session> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...options });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 403/404 the page handles is logged by Chromium as a failed resource; that is expected.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(message.text());
    }
  });
  return { page, problems };
}

export async function signIn(
  email: string,
  viewport?: { width: number; height: number },
): Promise<Session> {
  const session = await open(viewport);
  const { page } = session;
  await page.goto(`${server.baseUrl}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(new RegExp(`/w/${WORKSPACE}`));
  return session;
}

/** Signs the auditor in from the login page that asks to go on to another workspace. */
export async function signInAt(page: Page, workspace: string): Promise<void> {
  await page.goto(`${server.baseUrl}/login?next=/w/${workspace}`);
  await page.getByLabel('Email').fill(PEOPLE.auditor);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(new RegExp(`/w/${workspace}`));
}

export const rows = (page: Page) => page.locator('tbody tr.log__row');

/** Waits until the table shows the answer to the address's question. */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const results = document.querySelector('section.results');
    const params = new URLSearchParams(window.location.search);
    // No q in the address is the default question: everything but Trailkeep's own events.
    const question = JSON.stringify([
      params.get('q') ?? '-action:trailkeep.*',
      params.get('cursor'),
    ]);
    return (
      results?.getAttribute('aria-busy') === 'false' &&
      results.getAttribute('data-answers') === question
    );
  });
}

export const HIDE_OWN = '-action:trailkeep.*';

export function queryOf(page: Page): string {
  return new URL(page.url()).searchParams.get('q') ?? HIDE_OWN;
}

export async function goToQuery(page: Page, q: string): Promise<void> {
  await page.goto(`${server.baseUrl}/w/${WORKSPACE}?${new URLSearchParams({ q }).toString()}`);
  await settled(page);
}
