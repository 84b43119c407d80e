// Drives Debian's chromium (playwright-core, headless) through the connect
// flow from a texted link: the consent page, its one button, the
// authorization server's redirect, and the success page.
// Usage: node connect_browser.mjs <link> <screenshot.png>
// Prints {"consent": "...", "result": "...", "url": "..."}; exits 1 on failure.
import { chromium } from 'playwright-core';

const [link, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  // Root in a container, no GPU, and a closed network: no background calls.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const opened = await page.goto(link);
  if (opened.status() !== 200) throw new Error(`link answered ${opened.status()}`);
  const consent = await page.locator('h1').innerText();
  const scripts = await page.locator('script').count();
  if (scripts !== 0) throw new Error('the consent page carries JavaScript');
  await Promise.all([
    page.waitForURL(/\/oauth\/[a-z]+\/callback/),
    page.locator('button[type=submit]').click(),
  ]);
  const result = await page.locator('h1').innerText();
  if (screenshot) await page.screenshot({ path: screenshot });
  process.stdout.write(JSON.stringify({ consent, result, url: page.url() }) + '\n');
} finally {
  await browser.close();
}
