// The console's end-to-end harness: Debian's Chromium (installed by `scripts/setup.sh --test`)
// driven headless by playwright-core, against a real daemon. Pages are found by role and
// accessible name, as a user of a screen reader would find them. Every page visited can be
// checked with axe and saved as a screenshot under test-artifacts/console/ (kept after the run).
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
}

/** A fresh browser context (its own session storage) at 1280x800, collecting console errors. */
export async function openConsole(browser: Browser, baseUrl: string): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`${e.name}: ${e.message}`));
  await page.goto(`${baseUrl}/console/`);
  return { context, page, errors };
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
