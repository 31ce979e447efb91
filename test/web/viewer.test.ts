/**
 * The viewer in a real headless Chromium against a real server (temp SQLite, seeded log, people
 * of every role). Screenshots of the main states are written to docs/screenshots/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  HIDE_OWN,
  SCREENSHOTS,
  goToQuery,
  open,
  queryOf,
  rows,
  server,
  settled,
  signIn,
  signInAt,
  useViewer,
} from './support/browser.js';
import {
  PASSWORD,
  PEOPLE,
  DEMO_WORKSPACE,
  OTHER_WORKSPACE,
  WORKSPACE,
  XSS,
} from './support/viewer-server.js';

useViewer();

describe('the viewer', () => {
  it('signs in and shows the workspace log, newest first, fifty rows a page', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Audit log Acme Jobs');
    expect(await rows(page).count()).toBe(50);
    expect(await page.locator('.results__count').innerText()).toMatch(/^\d{3} events$/);
    const times = await rows(page)
      .locator('time')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('datetime') ?? ''));
    expect([...times].sort().reverse()).toEqual(times);
    // Full ISO time with the zone on hover; short local time in the cell.
    const title = await rows(page).first().locator('time').getAttribute('title');
    expect(title).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d \(.+\) · .+Z · (\d+ (min|h|d) ago|just now)$/,
    );
    expect(await rows(page).first().locator('time').innerText()).toMatch(
      /^[A-Z][a-z]{2} \d{1,2}, \d\d:\d\d [AP]M$/,
    );
    await expect
      .poll(() => page.locator('.integrity').innerText())
      .toMatch(/Intact up to seq \d+, checked/);
    const workspaces = await page
      .getByRole('combobox', { name: 'Workspace', exact: true })
      .locator('option')
      .allInnerTexts();
    expect(workspaces.slice(0, 2)).toEqual(['Acme Jobs (Auditor)', 'Beta Platform (Auditor)']);
    expect(workspaces.length).toBeGreaterThan(2);
    expect(problems).toEqual([]);
  });

  it('shows which witnesses cosigned up to which seq, and loudly the one that refuses', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);
    await page
      .getByRole('combobox', { name: 'Workspace', exact: true })
      .selectOption(OTHER_WORKSPACE);
    await page.waitForURL(new RegExp(`/w/${OTHER_WORKSPACE}$`));
    const witnesses = page.getByRole('list', { name: 'Witnesses' });
    await expect.poll(() => witnesses.locator('li').count()).toBe(2);
    const lines = await witnesses.locator('li').allInnerTexts();
    expect(lines[0]).toMatch(/^✓ Witness auditor-box cosigned up to seq \d+$/);
    expect(lines[1]).toMatch(
      /^⚠ Witness customer-witness refuses: .*HTTP 422 .*history changed.* \(cosigned up to seq \d+\)$/,
    );
    expect(await page.getByRole('alert').innerText()).toContain('customer-witness refuses');
    expect(await page.locator('.integrity--refused').count()).toBe(1);
    await page.locator('.audit__head').screenshot({ path: join(SCREENSHOTS, 'witnesses.png') });
    // Acme has no witnesses: its badge says nothing about them.
    await page.getByRole('combobox', { name: 'Workspace', exact: true }).selectOption(WORKSPACE);
    await page.waitForURL(new RegExp(`/w/${WORKSPACE}$`));
    await settled(page);
    expect(await page.getByRole('list', { name: 'Witnesses' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('switches to the demo workspace and shows its catalog, actors and entity export', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);
    await page
      .getByRole('combobox', { name: 'Workspace', exact: true })
      .selectOption(DEMO_WORKSPACE);
    await page.waitForURL(new RegExp(`/w/${DEMO_WORKSPACE}$`));
    await settled(page);
    expect(await rows(page).count()).toBe(50);
    const chips = await page
      .getByRole('group', { name: 'Category' })
      .getByRole('button')
      .allInnerTexts();
    for (const label of ['All', 'Workspace', 'Members', 'Invites', 'Jobs', 'Runners']) {
      expect(chips.some((chip) => chip.replace(/\s*[\d,]+$/, '') === label)).toBe(true);
    }
    const kinds = new Set(await rows(page).locator('.mark').allInnerTexts());
    expect(kinds.size).toBeGreaterThan(1);
    await expect
      .poll(() => page.locator('.integrity').innerText())
      .toMatch(/Intact up to seq \d+, checked/);
    await page.screenshot({ path: join(SCREENSHOTS, 'table.png') });

    // The export panel offers the entity kinds of the workspace, e.g. Jobs (latest state).
    const panel = page.locator('section.export');
    await panel.getByLabel('Data').selectOption('job');
    await expect
      .poll(() => panel.locator('.export__size').innerText())
      .toMatch(/^This export holds [\d,]+ records?\.$/);
    const holds = Number((await panel.locator('.export__size').innerText()).replace(/\D/g, ''));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    const records = parse<Record<string, string>>(readFileSync(await download.path(), 'utf8'), {
      columns: true,
    });
    expect(records).toHaveLength(holds);
    expect(holds).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('narrows the rows with each filter and keeps every filter in the URL', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);

    await page
      .getByRole('group', { name: 'Category' })
      .getByRole('button', { name: /^Integrations/ })
      .click();
    await page.waitForURL(/q=category/);
    await settled(page);
    expect(queryOf(page)).toBe(`category:integrations ${HIDE_OWN}`);
    expect(await rows(page).count()).toBe(server.counts.integrations);
    expect(new Set(await rows(page).locator('.log__category').allInnerTexts())).toEqual(
      new Set(['Integrations']),
    );
    expect(await page.locator('.results__count').innerText()).toBe(
      `${server.counts.integrations} events`,
    );

    const actor = page.getByLabel('Actor');
    await actor.fill('alex@');
    await actor.press('Enter');
    await page.waitForURL(/actor/);
    await settled(page);
    expect(queryOf(page)).toBe(`category:integrations actor:alex@ ${HIDE_OWN}`);
    expect(new Set(await rows(page).locator('.log__actor-name').allInnerTexts())).toEqual(
      new Set(['Alex Kim']),
    );
    expect(await rows(page).count()).toBe(3);
    // "Last 7 days" composes with the other filters.
    await page.getByLabel('Period').selectOption('7d');
    await page.waitForURL(/since/);
    await settled(page);
    expect(queryOf(page)).toMatch(
      /^category:integrations actor:alex@ since:\d{4}-\d\d-\d\d -action:trailkeep\.\*$/,
    );
    expect(await page.getByLabel('Period').inputValue()).toBe('7d');
    expect(await rows(page).count()).toBe(3);
    await page.screenshot({ path: join(SCREENSHOTS, 'filters.png') });

    await goToQuery(page, '');
    await page.getByLabel('Action').selectOption('member.role_changed');
    await page.waitForURL(/q=action/);
    await settled(page);
    expect(queryOf(page)).toBe('action:member.role_changed');
    expect(await rows(page).locator('.badge').allInnerTexts()).toEqual(['Member Role Changed']);

    await page.getByLabel('Target kind').selectOption('integration');
    await page.waitForURL(/target_type/);
    await settled(page);
    expect(queryOf(page)).toBe('action:member.role_changed target_type:integration');
    expect(await page.locator('.status__title').innerText()).toBe('No events match these filters');

    await goToQuery(page, 'target_type:integration');
    expect(await rows(page).count()).toBe(server.counts.integrations);
    await page.getByLabel('Target id').fill('int_evil');
    await page.getByLabel('Target id').press('Enter');
    await page.waitForURL(/target_id/);
    await settled(page);
    expect(queryOf(page)).toBe('target_type:integration target_id:int_evil');
    expect(await rows(page).count()).toBe(1);

    await goToQuery(page, '');
    await page.getByLabel('Hide system events').check();
    await page.waitForURL(/is%3Asystem|is:system/);
    await settled(page);
    expect(queryOf(page)).toBe('-is:system');
    const marks = new Set(await rows(page).locator('.mark').allInnerTexts());
    expect(marks.has('SYSTEM') || marks.has('System')).toBe(false);
    expect([...marks].some((mark) => /automation/i.test(mark))).toBe(false);

    // Since and until: one day, inclusive.
    const firstTime = await rows(page).first().locator('time').getAttribute('datetime');
    const day = firstTime!.slice(0, 10);
    await page.getByLabel('Since').fill(day);
    await page.waitForURL(/since/);
    await page.getByLabel('Until').fill(day);
    await page.waitForURL(/until/);
    await settled(page);
    expect(queryOf(page)).toBe(`-is:system since:${day} until:${day}`);
    const days = await rows(page)
      .locator('time')
      .evaluateAll((nodes) =>
        nodes.map((node) => (node.getAttribute('datetime') ?? '').slice(0, 10)),
      );
    expect(days.length).toBeGreaterThan(0);
    expect(new Set(days)).toEqual(new Set([day]));

    // A reload reproduces the view from the address alone.
    await page.reload();
    await settled(page);
    expect(await page.getByLabel('Hide system events').isChecked()).toBe(true);
    expect(await page.getByLabel('Since').inputValue()).toBe(day);
    expect(problems).toEqual([]);
  });

  it('keeps the query box and the controls in step, and shows query errors in place', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);
    const box = page.getByLabel('Search with the query language');

    await box.fill('category:members actor:sam');
    await box.press('Enter');
    await page.waitForURL(/q=/);
    await settled(page);
    const members = page
      .getByRole('group', { name: 'Category' })
      .getByRole('button', { name: /^Members/ });
    expect(await members.getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByLabel('Actor').inputValue()).toBe('sam');
    expect(await rows(page).count()).toBeGreaterThan(0);

    await page
      .getByRole('group', { name: 'Category' })
      .getByRole('button', { name: 'All', exact: true })
      .click();
    await page.waitForURL((url) => url.searchParams.get('q') === 'actor:sam');
    expect(await box.inputValue()).toBe('actor:sam');
    await settled(page);
    const before = await rows(page).count();
    expect(before).toBeGreaterThan(0);

    await box.fill('actor:sam foo:bar');
    await box.press('Enter');
    const alert = page.locator('.query-error');
    await alert.waitFor();
    expect(await alert.locator('.query-error__detail').innerText()).toMatch(/foo.*position 10/);
    expect(await alert.locator('mark').innerText()).toBe('foo:bar');
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    // The table keeps the last valid answer.
    expect(await rows(page).count()).toBe(before);

    await page.goBack();
    await page.waitForURL((url) => url.searchParams.get('q') === 'actor:sam');
    await alert.waitFor({ state: 'detached' });
    expect(await box.inputValue()).toBe('actor:sam');
    expect(problems).toEqual([]);
  });

  it('expands a row to show old and new values, and hides secret values', async () => {
    const { page, problems } = await signIn(PEOPLE.admin);
    await goToQuery(page, 'category:members -actor:olivia -actor:adam -actor:audrey');

    const roleRow = rows(page).filter({ hasText: 'Member Role Changed' });
    await roleRow.locator('td.log__target').click();
    const detail = page.locator('.detail').first();
    await detail.waitFor();
    const change = detail.locator('table.changes tbody tr');
    expect(await change.locator('th').innerText()).toBe('role');
    expect(await change.locator('.changes__old').innerText()).toBe('member');
    expect(await change.locator('.changes__new').innerText()).toBe('admin');
    expect(await detail.innerText()).toContain('req_role_1');
    await page.screenshot({ path: join(SCREENSHOTS, 'expanded-row.png') });
    await roleRow.getByRole('button', { name: /Hide details/ }).press('Enter');
    await detail.waitFor({ state: 'detached' });

    // Keyboard: arrow keys move between the rows' toggles, Enter opens one.
    await rows(page).first().getByRole('button').focus();
    await page.keyboard.press('ArrowDown');
    expect(
      await rows(page)
        .nth(1)
        .getByRole('button')
        .evaluate((button) => button === document.activeElement),
    ).toBe(true);
    const userRow = rows(page).filter({ hasText: 'User Updated' });
    await userRow.getByRole('button', { name: /Show details/ }).focus();
    await page.keyboard.press('Enter');
    const secretDetail = page.locator('.detail');
    await secretDetail.waitFor();
    const secretRow = secretDetail.locator('table.changes tbody tr', { hasText: 'password' });
    expect(await secretRow.locator('td').innerText()).toBe('changed, value hidden');
    const emailRow = secretDetail.locator('table.changes tbody tr', { hasText: 'email' });
    expect(await emailRow.locator('.changes__old').innerText()).toBe('sam@old.example');
    expect(await emailRow.locator('.changes__new').innerText()).toBe('sam@example.com');
    await secretDetail.getByText('Raw JSON').click();
    const raw = JSON.parse(await secretDetail.locator('pre').innerText()) as { seq: number };
    expect(raw.seq).toBeGreaterThan(0);
    expect(await page.content()).not.toContain('hunter2');

    // The entity's full history is one click away.
    await secretDetail.getByRole('link', { name: 'Full history' }).click();
    await page.waitForURL(/\/history\/user\/u_sam$/);
    await page.locator('.history h1').waitFor();
    expect(await page.locator('.history h1').innerText()).toContain('u_sam');
    await page.locator('.timeline, .status').first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'history.png') });
    expect(problems).toEqual([]);
  });

  it('pages Older and Newer without losing the filters', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await goToQuery(page, 'category:runners');
    expect(await rows(page).count()).toBe(50);
    const firstPage = await rows(page).first().getAttribute('data-seq');
    const firstSeqs = await rows(page).evaluateAll((nodes) =>
      nodes.map((n) => n.getAttribute('data-seq')),
    );

    await page
      .getByRole('navigation', { name: 'Pages, bottom' })
      .getByRole('button', { name: /Older/ })
      .click();
    await page.waitForURL(/cursor=/);
    await settled(page);
    expect(queryOf(page)).toBe('category:runners');
    expect(await rows(page).count()).toBe(40);
    expect(new Set(await rows(page).locator('.log__category').allInnerTexts())).toEqual(
      new Set(['Runners']),
    );
    const olderSeqs = await rows(page).evaluateAll((nodes) =>
      nodes.map((n) => Number(n.getAttribute('data-seq'))),
    );
    expect(Math.max(...olderSeqs)).toBeLessThan(Math.min(...firstSeqs.map(Number)));
    expect(
      await page
        .getByRole('navigation', { name: 'Pages, top' })
        .getByRole('button', { name: /Older/ })
        .isDisabled(),
    ).toBe(true);

    const olderUrl = page.url();
    await page
      .getByRole('navigation', { name: 'Pages, top' })
      .getByRole('button', { name: /Newer/ })
      .click();
    await page.waitForURL(
      (url) => url.searchParams.get('cursor') !== null && url.href !== olderUrl,
    );
    await settled(page);
    expect(queryOf(page)).toBe('category:runners');
    expect(
      await rows(page).evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-seq'))),
    ).toEqual(firstSeqs);
    expect(firstPage).toBe(firstSeqs[0]);

    await page.goBack();
    await settled(page);
    expect(await rows(page).count()).toBe(40);
    expect(problems).toEqual([]);
  });

  it('signs in from /login?next=/\\evil.example and stays on this origin', async () => {
    const { page, problems } = await open();
    await page.goto(`${server.baseUrl}/login?next=/\\evil.example`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill(PEOPLE.owner);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // `/`, which opens the first workspace the person can read.
    await page.waitForURL(`${server.baseUrl}/w/${WORKSPACE}`);
    await settled(page);
    expect(new URL(page.url()).origin).toBe(server.baseUrl);
    expect(problems).toEqual([]);
  });

  it('shows a member the no-access page and nothing of the log', async () => {
    const { page, problems } = await signIn(PEOPLE.member);
    await page.getByRole('heading', { name: "You don't have access to this audit log" }).waitFor();
    expect(await page.locator('table').count()).toBe(0);
    expect(await page.locator('.filters, .export, .integrity').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'no-access.png') });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    const session = await page.request.get(`${server.baseUrl}/api/v1/session`);
    expect(session.status()).toBe(401);
    expect(problems).toEqual([]);
  });

  it('downloads exactly the rows the filters select', async () => {
    const { page, problems } = await signIn(PEOPLE.owner);
    await goToQuery(page, 'category:integrations');
    const panel = page.locator('section.export');
    await expect
      .poll(() => panel.locator('.export__size').innerText())
      .toBe(`This export holds ${server.counts.integrations} events.`);
    expect(await panel.locator('.export__filters').innerText()).toContain('category:integrations');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    const records = parse<Record<string, string>>(csv, { columns: true });
    expect(records).toHaveLength(server.counts.integrations);
    expect(new Set(records.map((r) => r.category))).toEqual(new Set(['integrations']));

    await panel.getByLabel('NDJSON').check();
    const [ndjson] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('link', { name: 'Download NDJSON' }).click(),
    ]);
    const lines = readFileSync(await ndjson.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(server.counts.integrations);
    expect(problems).toEqual([]);
  });

  it('renders script and HTML payloads from events as inert text', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await goToQuery(page, 'target_id:int_evil');
    expect(await rows(page).count()).toBe(1);
    expect(await rows(page).locator('.log__actor-name').innerText()).toBe(XSS.img);
    expect(await rows(page).locator('.log__target-name').innerText()).toBe(XSS.script);
    await rows(page)
      .getByRole('button', { name: /Show details/ })
      .click();
    const detail = page.locator('.detail');
    await detail.waitFor();
    await detail.getByText('Raw JSON').click();
    expect(await detail.locator('.changes__new').innerText()).toBe(XSS.img);
    expect(await detail.innerText()).toContain(XSS.script);

    expect(await page.locator('#root img, #root script').count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { __xss?: number }).__xss),
    ).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('reads well at phone width', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor, { width: 390, height: 844 });
    await settled(page);
    // The controls fold away on a phone; the query box and chips stay.
    expect(await page.getByLabel('Actor').isVisible()).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'mobile.png'), fullPage: false });
    await page.getByRole('button', { name: 'More filters' }).click();
    expect(await page.getByLabel('Actor').isVisible()).toBe(true);
    await rows(page)
      .first()
      .getByRole('button', { name: /Show details/ })
      .click();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
  });

  it("hides Trailkeep's own events by default behind a toggle, and reading does not flood the log", async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);
    for (let i = 0; i < 3; i++) {
      await page.reload();
      await settled(page);
    }
    const titles = () =>
      rows(page)
        .locator('.log__action .badge')
        .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('title') ?? ''));
    const toggle = page.getByLabel(/Hide Trailkeep.s own events/);
    expect(await toggle.isChecked()).toBe(true);
    expect((await titles()).filter((action) => action.startsWith('trailkeep.'))).toEqual([]);

    await toggle.uncheck();
    await page.waitForURL(/[?&]q=(&|$)/);
    await settled(page);
    expect(queryOf(page)).toBe('');
    const own = (await titles()).filter((action) => action.startsWith('trailkeep.'));
    expect(own).toContain('trailkeep.login.succeeded');
    // Four loads of the same question by the same person: one view.
    const views = await page.evaluate(
      async (path) => {
        const answer = await fetch(path);
        return ((await answer.json()) as { events: unknown[] }).events.length;
      },
      `/api/v1/workspaces/${WORKSPACE}/events?${new URLSearchParams({ q: `action:trailkeep.log.viewed actor:${PEOPLE.auditor} meta.query:"${HIDE_OWN}"` }).toString()}`,
    );
    expect(views).toBe(1);
    expect(await page.locator('.log__category').allInnerTexts()).toContain('Trailkeep');

    await toggle.check();
    await page.waitForURL((url) => !url.searchParams.has('q'));
    await settled(page);
    expect((await titles()).filter((action) => action.startsWith('trailkeep.'))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("shows times in the reader's zone or UTC, with the year when it is not this one", async () => {
    const { page, problems } = await open(undefined, { timezoneId: 'Europe/Berlin' });
    await signInAt(page, OTHER_WORKSPACE);
    await settled(page);
    const heading = page.locator('thead .time-heading');
    const header = {
      innerText: async () => ((await heading.textContent()) ?? '').replace(/\s+/g, ' ').trim(),
      getByRole: heading.getByRole.bind(heading),
    };
    expect(await header.innerText()).toBe('Time (Europe/Berlin) Show UTC');
    const old = rows(page).filter({ hasText: 'SSH Key Created' });
    expect(await old.locator('.log__kind').innerText()).toBe('API key');
    const year = new Date(Date.now() - 400 * 86_400_000).getUTCFullYear();
    expect(await old.locator('time').innerText()).toContain(`, ${year},`);
    expect(await old.locator('time').getAttribute('title')).toMatch(
      /\(Europe\/Berlin\) · .* · 1 y ago$/,
    );
    const recent = rows(page).filter({ hasText: 'Auto Start' });
    expect(await recent.locator('time').innerText()).not.toMatch(/, \d{4},/);
    expect(await page.getByText('Since (day, Europe/Berlin)').count()).toBe(1);

    // Since picks a Berlin day: the instants it starts and ends there.
    await page.getByLabel('Since (day, Europe/Berlin)').fill('2026-05-12');
    await page.waitForURL(/since/);
    expect(queryOf(page)).toMatch(/since:"?2026-05-12T00:00:00\.000\+02:00"?/);
    expect(await page.getByLabel('Since (day, Europe/Berlin)').inputValue()).toBe('2026-05-12');
    await goToQuery(page, '');

    await header.getByRole('button', { name: 'Show UTC' }).click();
    await expect.poll(() => header.innerText()).toBe('Time (UTC) Show my time');
    expect(await page.getByText('Since (UTC day)').count()).toBe(1);
    // Remembered in this browser.
    await page.reload();
    await settled(page);
    expect(await header.innerText()).toMatch(/^Time \(UTC\)/);

    await page.goto(`${server.baseUrl}/w/${WORKSPACE}`);
    await settled(page);
    await page.emulateMedia({ colorScheme: 'dark' });
    const background = await page.evaluate(
      () => getComputedStyle(document.documentElement).backgroundColor,
    );
    expect(background).toBe('rgb(15, 20, 25)');
    await page.screenshot({ path: join(SCREENSHOTS, 'dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    expect(
      await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor),
    ).toBe('rgb(246, 247, 249)');
    expect(problems).toEqual([]);
  });

  it('gives every event a permalink with a copy button and the events around it', async () => {
    const { page, problems } = await signIn(PEOPLE.auditor);
    await settled(page);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: server.baseUrl,
    });
    const row = rows(page).filter({ hasText: 'Member Role Changed' });
    await row.getByRole('button', { name: /Show details/ }).click();
    await page.getByRole('link', { name: 'Link to this event' }).click();
    await page.waitForURL(/\/events\//);
    await page.getByRole('heading', { level: 1, name: /Member Role Changed/ }).waitFor();
    const address = page.url();
    expect(new URL(address).pathname).toMatch(new RegExp(`^/w/${WORKSPACE}/events/[^/]+$`));
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByText('Link copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(address);
    // The same address opened afresh shows the same event.
    await page.goto(address);
    await page.getByRole('heading', { level: 1, name: /Member Role Changed/ }).waitFor();
    expect(await page.getByRole('rowheader', { name: 'role' }).count()).toBe(1);

    await page.getByLabel('Window').selectOption('1d');
    await page.getByRole('link', { name: 'By Alex Kim' }).click();
    await page.waitForURL(/since/);
    await settled(page);
    expect(queryOf(page)).toMatch(
      /^actor_type:user actor:u_alex since:.* until:.* -action:trailkeep\.\*$/,
    );
    const actors = new Set(await rows(page).locator('.log__actor-name').allInnerTexts());
    expect(actors).toEqual(new Set(['Alex Kim']));
    expect(await rows(page).filter({ hasText: 'Member Role Changed' }).count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('filters by operation, target name and a metadata key from the controls', async () => {
    const { page, problems } = await open();
    await signInAt(page, OTHER_WORKSPACE);
    await settled(page);
    const names = () => rows(page).locator('.log__action .badge').allInnerTexts();
    expect((await names()).sort()).toEqual(['Auto Start', 'SSH Key Created']);

    await page.getByLabel('Metadata key').fill('build_reason');
    await page.getByLabel('Metadata value').fill('autostart');
    await page.getByLabel('Metadata value').press('Enter');
    await page.waitForURL(/meta/);
    await settled(page);
    expect(queryOf(page)).toBe('meta.build_reason:autostart -action:trailkeep.*');
    expect(await names()).toEqual(['Auto Start']);

    await page.getByLabel('Target name').fill('build 2');
    await page.getByLabel('Target name').press('Enter');
    await page.waitForURL(/target/);
    await settled(page);
    expect(await rows(page).count()).toBe(0);
    await page.getByLabel('Target name').fill('');
    await page.getByLabel('Target name').press('Enter');
    await page.waitForURL((url) => !(url.searchParams.get('q') ?? '').includes('target'));
    await settled(page);

    await page.getByLabel('Metadata key').fill('');
    await page.getByLabel('Metadata value').fill('');
    await page.getByLabel('Metadata value').press('Enter');
    await page.waitForURL((url) => !url.searchParams.has('q'));
    await settled(page);
    await page.getByLabel('Operation').selectOption('create');
    await page.waitForURL(/operation/);
    await settled(page);
    expect(queryOf(page)).toBe('operation:create -action:trailkeep.*');
    expect(await names()).toEqual(['SSH Key Created']);
    expect(problems).toEqual([]);
  });

  it('joins by invitation: a new person with the link, then a signed-in person from the notice', async () => {
    const invited = await inviteByApi(PEOPLE.admin, WORKSPACE, 'nina@new.test', 'auditor');
    const { page, problems } = await open();
    await page.goto(`${server.baseUrl}${invited.accept_path}`);
    await page.getByRole('heading', { name: 'Accept your invitation' }).waitFor();
    // The secret leaves the address bar once read.
    expect(new URL(page.url()).hash).toBe('');
    await page.getByLabel('Name').fill('Nina New');
    await page.getByLabel('Password').fill('nina password 12');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    await page.waitForURL(`${server.baseUrl}/w/${WORKSPACE}`);
    await settled(page);

    // Invited to a second workspace: the signed-in person sees it and says yes.
    await inviteByApi(PEOPLE.owner, OTHER_WORKSPACE, 'nina@new.test', 'auditor');
    await page.reload();
    const notice = page.getByRole('region', { name: 'Invitations' });
    await notice.getByText('You are invited to Beta Platform as auditor.').waitFor();
    await notice.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(`${server.baseUrl}/w/${OTHER_WORKSPACE}`);
    await settled(page);
    expect(await notice.count()).toBe(0);
    expect(problems).toEqual([]);
  });
});

/** Signs `email` in over the API and invites `invitee`: what an admin does from any client. */
async function inviteByApi(
  email: string,
  workspace: string,
  invitee: string,
  role: string,
): Promise<{ accept_path: string }> {
  const signIn = await fetch(`${server.baseUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const { csrf_token } = (await signIn.json()) as { csrf_token: string };
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const invited = await fetch(`${server.baseUrl}/api/v1/workspaces/${workspace}/members`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf_token },
    body: JSON.stringify({ email: invitee, role }),
  });
  expect(invited.status).toBe(201);
  return (await invited.json()) as { accept_path: string };
}
