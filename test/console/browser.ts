// The console's end-to-end harness: Debian's Chromium (installed by `scripts/setup.sh --test`)
// driven headless by playwright-core, against a real daemon. Pages are found by role and
// accessible name, as a user of a screen reader would find them. Every page visited can be
// checked with axe and saved as a screenshot under test-artifacts/console/ (kept after the run).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { Credentials } from "../ec2-helpers.ts";

export const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/console");

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Messages the page logged as errors, and uncaught exceptions: a clean console has none. */
  errors: string[];
  /** Responses of 400 and up, as "STATUS Action" (the API's) or "STATUS /path" (anything else). */
  failed: string[];
}

/** A fresh browser context (its own session storage) at 1280x800, collecting console errors. */
export async function openConsole(browser: Browser, baseUrl: string): Promise<ConsolePage> {
  // Reduced motion: Cloudscape then skips its transitions, so axe never measures a half-faded
  // flash message's contrast.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    reducedMotion: "reduce",
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const failed: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`${e.name}: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() < 400) return;
    const action = new URLSearchParams(r.request().postData() ?? "").get("Action");
    failed.push(`${r.status()} ${action ?? new URL(r.url()).pathname}`);
  });
  await page.goto(`${baseUrl}/console/`);
  return { context, page, errors, failed };
}

/**
 * The page logged no error, and every request that failed is one the test provoked on purpose
 * (`provoked`: "STATUS Action", e.g. "400 CreateImage" for a duplicate name whose error the test
 * then reads in the UI). The browser logs each failed request as "Failed to load resource",
 * which names no request; those are matched to the failed responses by count.
 */
export function assertClean(c: ConsolePage, provoked: string[] = [], what = "the page"): void {
  const loads = c.errors.filter((e) => e.startsWith("Failed to load resource"));
  assert.deepEqual(
    c.errors.filter((e) => !loads.includes(e)),
    [],
    `browser errors on ${what}`,
  );
  assert.deepEqual(
    c.failed.filter((f) => !provoked.includes(f)),
    [],
    `requests that failed on ${what}`,
  );
  assert.ok(
    loads.length <= c.failed.length,
    `failed loads on ${what}: ${loads.join("; ")} vs ${c.failed.join("; ")}`,
  );
}

/** Signs in through the form, as a person pasting a key would. */
export async function signIn(page: Page, credentials: Credentials, region = "us-east-1"): Promise<void> {
  await page.getByLabel("Access key ID").fill(credentials.accessKeyId);
  await page.getByLabel("Secret access key").fill(credentials.secretAccessKey);
  if (region !== "us-east-1") {
    await page.getByLabel("Region").click();
    await page.getByRole("option", { name: region }).click();
  }
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Side navigation" }).waitFor();
}

/** Serious and critical axe violations of the page as it is now (none expected). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Any transition still running (a flash fading in) would be judged half-drawn.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

/** Saves a full-page screenshot as test-artifacts/console/NAME.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Follows a link of the side navigation. Cloudscape's app layout sometimes closes its navigation
 * drawer by itself (seen right after a region switch on a loaded machine); a user would open it
 * again, and so does this.
 */
export async function goTo(page: Page, link: string): Promise<void> {
  const target = page
    .getByRole("navigation", { name: "Side navigation" })
    .getByRole("link", { name: link, exact: true });
  const opener = page.getByRole("button", { name: "Open navigation" });
  await target.or(opener).first().waitFor();
  if (!(await target.isVisible())) await opener.click();
  await target.click();
}
