// The console's Instances pages against a real daemon with one real VM from the public base image:
// the list shows it and follows its state to running without a reload; the details page shows its
// details, volumes, network, groups and the marker its user data printed in the console output;
// Create image, Stop and Terminate are done through the menus and read back with the SDK. Every
// page passes axe and logs no errors; each leaves a screenshot in test-artifacts/console/.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import {
  DescribeImagesCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilImageAvailable,
  waitUntilInstanceStopped,
} from "@aws-sdk/client-ec2";
import type { Browser, Page } from "playwright-core";
import { type Daemon, startDaemon } from "../daemon.ts";
import { adminCredentials, ec2 } from "../ec2-helpers.ts";
import { tempDir } from "../helpers.ts";
import { baseImageId, describeInstance } from "../instance-helpers.ts";
import {
  assertClean,
  axeViolations,
  type ConsolePage,
  goTo,
  launchBrowser,
  openConsole,
  screenshot,
  signIn,
} from "./browser.ts";

const MARKER = `MARKER-${randomBytes(4).toString("hex")}`;
const dataDir = tempDir();
let daemon: Daemon;
let browser: Browser;
let admin: EC2Client;
let base: string;
let instanceId: string;
let c: ConsolePage;
const waiter = { client: undefined as unknown as EC2Client, maxWaitTime: 180, minDelay: 1, maxDelay: 2 };

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1", { baseImage: true });
  admin = ec2(daemon, adminCredentials(dataDir));
  waiter.client = admin;
  [base, browser] = await Promise.all([baseImageId(admin), launchBrowser()]);
  // The one VM, launched with the SDK (the launch wizard is another page's test); its user data
  // prints a marker on the serial console.
  const run = await admin.send(
    new RunInstancesCommand({
      ImageId: base,
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      UserData: Buffer.from(`#!/bin/sh\necho ${MARKER}\n`).toString("base64"),
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "console-web" }] }],
    }),
  );
  instanceId = run.Instances![0].InstanceId!;
  c = await openConsole(browser, daemon.url);
  await signIn(c.page, adminCredentials(dataDir));
});

after(async () => {
  await admin?.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })).catch(() => {});
  await browser?.close();
  await daemon?.kill("SIGTERM");
});

// Requests refused on purpose (their errors are read in the UI), as "STATUS Action".
const provoked: string[] = [];

/** axe and the browser's error log on the page as it is now, and its screenshot. */
async function look(name: string): Promise<void> {
  await screenshot(c.page, name);
  assert.deepEqual(await axeViolations(c.page), [], `axe on ${name}`);
  assertClean(c, provoked, name);
}

const row = (page: Page, text: string) =>
  page
    .getByRole("table", { name: "Instances" })
    .getByRole("row")
    .filter({ hasText: instanceId })
    .filter({ hasText: text });

async function menu(page: Page, button: string, ...items: string[]): Promise<void> {
  await page.getByRole("button", { name: button, exact: true }).click();
  for (const item of items) await page.getByRole("menuitem", { name: item, exact: true }).click();
}

async function select(page: Page): Promise<void> {
  const box = page.getByRole("checkbox", { name: `Select ${instanceId}` });
  if (!(await box.isChecked())) await box.check();
}

test("the list shows the instance and follows it to running without a reload", async () => {
  const { page } = c;
  await page.evaluate(() => {
    (window as unknown as { sameDocument: boolean }).sameDocument = true;
  });
  await row(page, "console-web").waitFor();
  await row(page, "running").waitFor({ timeout: 180_000 });
  assert.equal(
    await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument),
    true,
  );
  const text = (await row(page, "running").textContent()) ?? "";
  for (const want of [base, "t3.micro", "us-east-1a"])
    assert.ok(text.includes(want), `row shows ${want}: ${text}`);
  const link = row(page, "running").getByRole("link", { name: instanceId, exact: true });
  assert.equal(await link.getAttribute("href"), `/console/instances/${instanceId}`);

  // The Instance state menu offers what a running instance allows.
  await select(page);
  await page.getByRole("button", { name: "Instance state", exact: true }).click();
  const item = (name: string) => page.getByRole("menuitem", { name, exact: true });
  assert.equal(await item("Start instance").getAttribute("aria-disabled"), "true");
  assert.notEqual(await item("Stop instance").getAttribute("aria-disabled"), "true");
  await page.keyboard.press("Escape");
  await look("instances-list");
});

test("the details page: details, storage, networking, security, console output with Follow", async () => {
  const { page } = c;
  const i = await describeInstance(admin, instanceId);
  await row(page, "running").getByRole("link", { name: instanceId, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: `${instanceId} (console-web)` }).waitFor();
  const details = page.getByRole("tabpanel");
  await details.getByRole("link", { name: base }).waitFor();
  assert.match((await details.textContent()) ?? "", /x86_64/);
  await look("instances-details");

  await page.getByRole("tab", { name: "Storage" }).click();
  const rootVolume = i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.VolumeId!;
  await page
    .getByRole("table", { name: "Instance volumes" })
    .getByRole("row")
    .filter({ hasText: rootVolume })
    .filter({ hasText: "in-use" })
    .waitFor();
  assert.deepEqual(await axeViolations(page), [], "axe on the Storage tab");

  await page.getByRole("tab", { name: "Networking" }).click();
  await page.getByRole("tabpanel").getByText(i.PrivateIpAddress!, { exact: true }).first().waitFor();
  assert.deepEqual(await axeViolations(page), [], "axe on the Networking tab");

  await page.getByRole("tab", { name: "Security" }).click();
  const groups = page.getByRole("table", { name: "Security groups" });
  await groups.waitFor();
  for (const g of i.SecurityGroups ?? []) {
    const link = groups.getByRole("link", { name: g.GroupId!, exact: true });
    assert.equal(await link.getAttribute("href"), `/console/security-groups/${g.GroupId}`);
  }
  if (!i.SecurityGroups?.length) await groups.getByText("No security groups").waitFor();
  assert.deepEqual(await axeViolations(page), [], "axe on the Security tab");

  await page.getByRole("tab", { name: "Console output" }).click();
  await page.getByLabel("Follow").check();
  const pre = page.locator('pre[aria-label="Console output"]');
  // Follow fetches again every 2 s: the marker appears once the guest's user data has run.
  await pre.filter({ hasText: MARKER }).waitFor({ timeout: 180_000 });
  // ...and keeps the end in view.
  const atEnd = await pre.evaluate((e) => e.scrollHeight - e.scrollTop - e.clientHeight < 4);
  assert.ok(atEnd, "Follow scrolls to the end");
  await look("instances-console-output");
  await page.getByLabel("Follow").uncheck();
});

test("Actions > Image and templates > Create image: validation, the AMI, an API error", async () => {
  const { page } = c;
  await goTo(page, "Instances");
  await select(page);
  await menu(page, "Actions", "Image and templates", "Create image");
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Image name").fill("no");
  await dialog.getByRole("button", { name: "Create image", exact: true }).click();
  await dialog.getByText("Must be 3 to 128 characters long").waitFor();
  await dialog.getByLabel("Image name").fill("console-golden (v1)");
  await dialog.getByLabel("Image description").fill("made from the instances page");
  await dialog.getByLabel("No reboot").check();
  await dialog.getByRole("button", { name: "Add new tag" }).click();
  await dialog.getByRole("textbox", { name: "Key" }).fill("team");
  await dialog.getByRole("textbox", { name: "Value" }).fill("web");
  const i = await describeInstance(admin, instanceId);
  const rootVolume = i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.VolumeId!;
  await dialog
    .getByRole("table", { name: "Instance volumes" })
    .getByRole("row")
    .filter({ hasText: rootVolume })
    .filter({ hasText: "(root)" })
    .waitFor();
  await look("instances-create-image");
  await dialog.getByRole("button", { name: "Create image", exact: true }).click();
  await dialog.waitFor({ state: "detached" });

  // The flash's link: the one to an AMI that is not the base image (the AMI ID column's).
  const flashLink = page.getByRole("link", { name: /^ami-[0-9a-f]+$/ }).filter({ hasNotText: base });
  await flashLink.waitFor();
  const imageId = (await flashLink.textContent())!;
  assert.equal(await flashLink.getAttribute("href"), `/console/images/${imageId}`);
  const img = (await admin.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
  assert.equal(img.Name, "console-golden (v1)");
  assert.equal(img.Description, "made from the instances page");
  assert.deepEqual(img.Tags, [{ Key: "team", Value: "web" }]);
  // No reboot: the instance kept running.
  assert.equal((await describeInstance(admin, instanceId)).State?.Name, "running");

  // The same name again: the API's code and message, in the form and flashed.
  await menu(page, "Actions", "Image and templates", "Create image");
  await dialog.getByLabel("Image name").fill("console-golden (v1)");
  await dialog.getByLabel("No reboot").check();
  await dialog.getByRole("button", { name: "Create image", exact: true }).click();
  await dialog.getByText(/^InvalidAMIName\.Duplicate: AMI name/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page
    .getByText(/Failed to create an image from/)
    .first()
    .waitFor();
  provoked.push("400 CreateImage"); // the duplicate, refused on purpose
  await look("instances-create-image-error");
  // The image completes before the instance is stopped and terminated below.
  await waitUntilImageAvailable(waiter, { ImageIds: [imageId] });
});

test("Stop on the details page, Terminate on the list, each confirmed", async () => {
  const { page } = c;
  await row(page, "running").getByRole("link", { name: instanceId, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: `${instanceId} (console-web)` }).waitFor();
  await menu(page, "Instance state", "Stop instance");
  const dialog = page.getByRole("dialog");
  assert.match((await dialog.textContent()) ?? "", new RegExp(instanceId));
  await dialog.getByRole("button", { name: "Stop", exact: true }).click();
  await waitUntilInstanceStopped(waiter, { InstanceIds: [instanceId] });
  await page.getByRole("tabpanel").getByText("stopped", { exact: true }).waitFor({ timeout: 30_000 });

  await page
    .getByRole("navigation", { name: "Breadcrumbs" })
    .getByRole("link", { name: "Instances" })
    .click();
  await select(page);
  await menu(page, "Instance state", "Terminate instance");
  const i = await describeInstance(admin, instanceId);
  const rootVolume = i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.VolumeId!;
  const text = (await dialog.textContent()) ?? "";
  assert.match(text, new RegExp(instanceId));
  assert.match(text, /Delete on termination/);
  assert.ok(text.includes(rootVolume), "the root volume is named as deleted");
  await dialog.getByRole("button", { name: "Terminate", exact: true }).click();
  await dialog.waitFor({ state: "detached" });
  const state = (await describeInstance(admin, instanceId)).State?.Name;
  assert.ok(state === "shutting-down" || state === "terminated", String(state));
  // Terminated instances stay listed (as EC2 lists them for a while).
  await row(page, "terminated").waitFor({ timeout: 60_000 });
  await look("instances-terminated");
});
