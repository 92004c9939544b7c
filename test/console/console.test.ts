import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMBIENT_RUN_WORKFLOW } from '../../core/ambient.ts';
import { startStackProcess, type StackProcess } from '../../testkit/stack-process.ts';
import { noTemporal } from '../../testkit/temporal.ts';

/** Debian's chromium, installed by .ci/run; never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = 'test-results/console';
const noBrowser = !existsSync(CHROMIUM);
if (noBrowser && process.env.CI === 'true')
  throw new Error(`No browser at ${CHROMIUM}: .ci/run installs Debian's chromium (apt-get install -y chromium).`);

const dataDir = mkdtempSync(join(tmpdir(), 'console-'));
let stack: StackProcess;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (noTemporal || noBrowser) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  [stack, browser] = await Promise.all([
    // Each model call takes a moment, as Gemini's do: long enough to click a session's stop button.
    startStackProcess({ dataDir, env: { OFFLINE_MODEL_DELAY_MS: '2500' } }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
  ]);
  page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The open thread's messages, as the person sees them. */
const thread = () => page.locator('#thread .message');

async function writeInChannel(text: string): Promise<void> {
  await page.getByLabel('New message').fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  // Sending opens the new thread, with the person's message at its top.
  await expect.poll(() => thread().first().innerText(), { timeout: 15_000 }).toContain(text);
}

describe.skipIf(noTemporal || noBrowser)('the console in a real browser', () => {
  it('posts in a thread through the signed edge, queue and dispatcher, and shows the answer live', async () => {
    await page.goto(stack.openUrl);
    await expect.poll(() => page.locator('#connection').innerText()).toBe('live');
    await writeInChannel('What time is it in Tokyo?');
    await expect
      .poll(() => thread().allInnerTexts(), { timeout: 90_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining('in Asia/Tokyo (from the get_current_time tool)')]));
    // The agent session shows the turn answered, the tool step is a finished task card, and the thread links to its conversation in Temporal.
    await expect.poll(() => page.getByTestId('session-status').innerText()).toBe('session: active');
    await expect.poll(() => page.locator('#thread [data-testid=task]').first().getAttribute('data-status')).toBe('complete');
    expect(await page.locator('#thread [data-testid=task]').first().innerText()).toContain('get_current_time');
    expect(await page.locator('#thread-run').getAttribute('href')).toMatch(
      /\/namespaces\/default\/workflows\/slack%3AT0LOCAL%3AC0GENERAL%3A/,
    );
    // The thread shows what its turns cost (the offline model answers as gemini-3.5-flash, priced by the table).
    await expect
      .poll(() => page.locator('#thread-cost').innerText(), { timeout: 20_000 })
      .toMatch(/^1 turn\(s\) · \d+ tokens · \$0\.\d{4}$/);
    await page.screenshot({ path: `${SCREENSHOTS}/thread-answer.png` });
  }, 120_000);

  it('asks for approval with buttons, and Approve runs the tool through the interactivity path', async () => {
    await writeInChannel('Please submit an expense claim of 250 EUR for a monitor');
    const approve = page.locator('#thread').getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 90_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/approval-request.png` });
    await approve.click();
    await expect
      .poll(() => thread().allInnerTexts(), { timeout: 90_000 })
      .toEqual(expect.arrayContaining([expect.stringMatching(/Filed expense claim \S+ for 250 EUR \(from the submit_expense tool\)/)]));
    await page.screenshot({ path: `${SCREENSHOTS}/approval-done.png` });
  }, 180_000);

  it('stops a turn with the session’s stop button: the turn ends and its session closes', async () => {
    await page.getByRole('button', { name: '# general' }).click();
    await writeInChannel('What time is it in Lima?');
    const stop = page.getByRole('button', { name: 'Stop', exact: true });
    await stop.waitFor({ state: 'visible', timeout: 30_000 });
    await page.screenshot({ path: `${SCREENSHOTS}/session-processing.png` });
    await stop.click();
    await expect.poll(() => page.getByTestId('session-status').innerText(), { timeout: 30_000 }).toBe('session: closed');
    await expect.poll(() => stop.isHidden()).toBe(true);
    expect(await thread().allInnerTexts()).not.toEqual(
      expect.arrayContaining([expect.stringContaining('(from the get_current_time tool)')]),
    );
    await page.screenshot({ path: `${SCREENSHOTS}/session-stopped.png` });
  }, 90_000);

  it('writes to an agent by mail and shows its threaded reply', async () => {
    await page.getByRole('button', { name: 'Mail', exact: true }).click();
    await page.getByLabel('Subject').fill('Paris');
    await page.getByLabel('Mail text').fill('What time is it in Paris?');
    await page.getByRole('button', { name: 'Send mail' }).click();
    const reply = page.getByTestId('mail-out');
    await expect
      .poll(
        () =>
          reply
            .first()
            .innerText()
            .catch(() => ''),
        { timeout: 90_000 },
      )
      .toContain('Europe/Paris');
    expect(await reply.first().innerText()).toContain('Re: Paris');
    // The reply form now answers the agent at its signed plus-address.
    expect(await page.locator('#mail-form input[name=to]').inputValue()).toMatch(/^assistant\+[^@]+@agents\.local$/);
    await page.screenshot({ path: `${SCREENSHOTS}/mail.png` });
  }, 120_000);

  // The first schedule is the handbook digest's (a Slack trigger): its first run finds every document new and posts.
  it(`runs an ambient agent now (a "${AMBIENT_RUN_WORKFLOW}" run) and shows its post`, async () => {
    await page.getByRole('button', { name: 'Ambient', exact: true }).click();
    const row = page.locator('#schedules tr[data-schedule]').first();
    await row.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => row.innerText(), { timeout: 90_000 }).toMatch(/posted|quiet/);
    await page.locator('#channels button').last().click();
    await expect.poll(() => page.locator('#roots .message.bot').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: `${SCREENSHOTS}/ambient.png` });
  }, 150_000);

  it('shows the same threads after the stack restarts', async () => {
    await stack.stop();
    stack = await startStackProcess({ dataDir });
    // A new start has a new token: the page opens at the newly printed address.
    await page.goto(`${stack.openUrl}#channel/C0GENERAL`);
    await expect
      .poll(() => page.locator('#roots .message').allInnerTexts(), { timeout: 15_000 })
      .toEqual([
        expect.stringContaining('What time is it in Tokyo?'),
        expect.stringContaining('Please submit an expense claim of 250 EUR'),
        expect.stringContaining('What time is it in Lima?'),
      ]);
    await page.locator('#roots .message').first().getByRole('button', { name: /repl/ }).click();
    await expect.poll(() => thread().allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('in Asia/Tokyo')]));
    await page.screenshot({ path: `${SCREENSHOTS}/after-restart.png` });
  }, 180_000);
});
