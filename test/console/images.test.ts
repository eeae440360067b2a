// The console's AMIs pages end to end, without VMs: images registered from a snapshot of known
// bytes with the SDK, then listed, copied to another region, shared, made public and private,
// deprecated, protected and deregistered through the browser, each change read back with the SDK.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Image,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  waitUntilImageAvailable,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import type { Browser, Page } from "playwright-core";
import { assertStoreConsistent, type Daemon, startDaemon } from "../daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "../ec2-helpers.ts";
import { BLOCK_SIZE, seededBytes, tempDir } from "../helpers.ts";
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

const dataDir = tempDir();
let daemon: Daemon;
let admin: EC2Client;
let adminEu: EC2Client;
let bob: Account;
let bobEc2: EC2Client;
let browser: Browser;
let main: ConsolePage;
let imageId = "";
let snapshotId = "";
let bobPublicId = "";
let bobSharedId = "";
let copyId = "";

/** A volume of known bytes, its snapshot, and an image of it, all as `client`'s account. */
async function makeImage(client: EC2Client, name: string, seed: string, tags?: Record<string, string>) {
  const vol = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  const owner = client === admin ? undefined : "bob";
  await daemon.client("us-east-1", owner).write(vol.VolumeId!, 0, seededBytes(seed, BLOCK_SIZE));
  const snap = (await client.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId }))).SnapshotId!;
  await waitUntilSnapshotCompleted(
    { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [snap] },
  );
  const r = await client.send(
    new RegisterImageCommand({
      Name: name,
      Description: `${name} for the console test`,
      Architecture: "x86_64",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap } }],
      TagSpecifications: tags
        ? [{ ResourceType: "image", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }]
        : undefined,
    }),
  );
  return { imageId: r.ImageId!, snapshotId: snap };
}

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = ec2(daemon, adminCredentials(dataDir));
  adminEu = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
  bob = await createAccount(dataDir, "bob");
  bobEc2 = ec2(daemon, bob);
  const made = await makeImage(admin, "console-image-1", "console-images", { env: "test" });
  imageId = made.imageId;
  snapshotId = made.snapshotId;
  // Bob's: one public, one shared with the admin only (the other views' content).
  bobPublicId = (await makeImage(bobEc2, "bob-public", "bob-1")).imageId;
  bobSharedId = (await makeImage(bobEc2, "bob-shared", "bob-2")).imageId;
  await bobEc2.send(
    new ModifyImageAttributeCommand({ ImageId: bobPublicId, LaunchPermission: { Add: [{ Group: "all" }] } }),
  );
  const adminId = (await describe(admin, imageId)).OwnerId!;
  await bobEc2.send(
    new ModifyImageAttributeCommand({
      ImageId: bobSharedId,
      LaunchPermission: { Add: [{ UserId: adminId }] },
    }),
  );
  browser = await launchBrowser();
  main = await openConsole(browser, daemon.url);
  await signIn(main.page, adminCredentials(dataDir));
});

after(async () => {
  await browser?.close();
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

async function describe(client: EC2Client, id: string): Promise<Image> {
  return (await client.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
}

async function launchPermissions(id: string): Promise<string[]> {
  const r = await admin.send(
    new DescribeImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }),
  );
  return (r.LaunchPermissions ?? []).map((p) => p.UserId ?? `group:${p.Group}`).sort();
}

/** A value of an AMI page's Details section, by its label. */
async function detail(page: Page, label: string): Promise<string> {
  const term = page.locator("dt").filter({ hasText: new RegExp(`^${label}$`) });
  return ((await term.locator("xpath=following-sibling::dd[1]").textContent()) ?? "").trim();
}

async function noAxeViolations(page: Page, where: string) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${where}`);
}

const table = (page: Page) => page.getByRole("table", { name: "AMIs" });
/** The row of an image: the one whose AMI ID link is `id` (a copy's row names its source too). */
const row = (page: Page, id: string) =>
  table(page)
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name: id, exact: true }) });

async function openAmis(page: Page) {
  await goTo(page, "AMIs");
  await table(page).waitFor();
}

async function showView(page: Page, name: string) {
  await page.getByRole("toolbar", { name: "Images to show" }).getByRole("button", { name }).click();
}

/** Selects only `id` in the list and opens one item of the Actions menu. */
async function action(page: Page, id: string, item: string) {
  const checked = table(page).getByRole("checkbox", { checked: true });
  while ((await checked.count()) > 0) await checked.first().uncheck();
  await page.getByRole("checkbox", { name: `Select ${id}` }).check();
  await page.getByRole("button", { name: "Actions" }).click();
  await page.getByRole("menuitem", { name: item }).click();
  return page.getByRole("dialog");
}

test("the list shows the image; the four views show what each should", async () => {
  const { page } = main;
  await openAmis(page);
  await row(page, imageId).waitFor();
  const cells = (await row(page, imageId).textContent()) ?? "";
  for (const want of ["console-image-1", "Private", "available", "x86_64", "ebs"]) {
    assert.ok(cells.includes(want), `${want} in ${cells}`);
  }
  assert.equal(await row(page, bobPublicId).count(), 0, "Bob's public image is not mine");
  // Text search (collection hooks), tag and state filters.
  await page.getByLabel("Filter amis").fill("console-image");
  await row(page, imageId).waitFor();
  await page.getByLabel("Filter amis").fill("no-such-image");
  await page.getByText("No matches").waitFor();
  await page.getByLabel("Filter amis").fill("");
  await page.getByLabel("Filter by tag").fill("env=other");
  await page.getByText("No AMIs to show in this region").waitFor();
  await page.getByLabel("Filter by tag").fill("env=test");
  await row(page, imageId).waitFor();
  await page.getByLabel("Filter by tag").fill("");
  await noAxeViolations(page, "AMIs list");
  await screenshot(page, "images-list");

  await showView(page, "Public images");
  await row(page, bobPublicId).waitFor();
  assert.equal(await row(page, imageId).count(), 0);
  assert.equal(await row(page, bobSharedId).count(), 0);
  await showView(page, "Shared with me");
  await row(page, bobSharedId).waitFor();
  assert.equal(await row(page, bobPublicId).count(), 0);
  assert.equal(await row(page, imageId).count(), 0);
  await showView(page, "Private images");
  await row(page, imageId).waitFor();
  assert.equal(await row(page, bobSharedId).count(), 0);
  await showView(page, "Owned by me");
  await row(page, imageId).waitFor();
});

test("the details page shows the block device and its snapshot", async () => {
  const { page } = main;
  await row(page, imageId).getByRole("link", { name: imageId }).click();
  await page.getByRole("heading", { level: 1, name: `${imageId} (console-image-1)` }).waitFor();
  const devices = page.getByRole("table", { name: "Block devices" });
  const device = devices.getByRole("row").filter({ hasText: "/dev/xvda" });
  await device.waitFor();
  assert.equal(
    await device.getByRole("link", { name: snapshotId }).getAttribute("href"),
    `/console/snapshots/${snapshotId}`,
  );
  const cells = await device.locator("td, th").allTextContents();
  assert.ok(cells.includes("1") && cells.includes("gp3"), String(cells));
  await page.getByRole("heading", { name: "Permissions" }).waitFor();
  await page.getByRole("heading", { name: "Storage" }).waitFor();
  assert.ok(((await page.getByRole("table", { name: "Tags" }).textContent()) ?? "").includes("test"));
  await noAxeViolations(page, "AMI details");
  await screenshot(page, "images-details");
  await page.getByRole("button", { name: "Launch instance from AMI" }).click();
  await page.waitForURL(`**/console/launch?imageId=${imageId}`);
  await page.goBack();
  await page.getByRole("navigation", { name: "Breadcrumbs" }).getByRole("link", { name: "AMIs" }).click();
  await table(page).waitFor();
});

test("Copy AMI: a refused name shows EC2's error; the copy lands in eu-west-1 and shows there", async () => {
  const { page } = main;
  const dialog = await action(page, imageId, "Copy AMI");
  await dialog.getByLabel("Destination Region").click();
  await page.getByRole("option", { name: /^eu-west-1/ }).click();
  await dialog.getByLabel("Name").fill("x");
  await dialog.getByRole("button", { name: "Copy AMI" }).click();
  await dialog.getByText("InvalidAMIName.Malformed").waitFor();
  await dialog.getByLabel("Name").fill("console-copy-1");
  await dialog.getByLabel("Description").fill("copied by the console test");
  await dialog.getByRole("checkbox", { name: "Copy tags" }).check();
  await noAxeViolations(page, "Copy AMI");
  await screenshot(page, "images-copy");
  await dialog.getByRole("button", { name: "Copy AMI" }).click();
  await dialog.waitFor({ state: "hidden" });
  const flash = page.getByText(/Copying ami-\w+ to eu-west-1: new AMI ami-\w+/);
  copyId = /new AMI (ami-\w+)/.exec((await flash.textContent()) ?? "")![1];
  await waitUntilImageAvailable(
    { client: adminEu, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { ImageIds: [copyId] },
  );
  const copy = await describe(adminEu, copyId);
  assert.equal(copy.Name, "console-copy-1");
  assert.equal(copy.Description, "copied by the console test");
  assert.equal(copy.SourceImageId, imageId);
  assert.equal(copy.SourceImageRegion, "us-east-1");
  assert.deepEqual(copy.Tags, [{ Key: "env", Value: "test" }]);

  // The region switcher shows eu-west-1's list, with the copy's source.
  await page.getByRole("button", { name: "Region: us-east-1" }).click();
  await page.getByRole("menuitem", { name: "eu-west-1" }).click();
  await page.getByRole("button", { name: "Region: eu-west-1" }).waitFor();
  await openAmis(page);
  const copied = row(page, copyId);
  await copied.filter({ hasText: "available" }).waitFor();
  const text = (await copied.textContent()) ?? "";
  assert.ok(text.includes(imageId) && text.includes("us-east-1") && text.includes("console-copy-1"), text);
  assert.equal(await row(page, imageId).count(), 0, "the source stays in us-east-1");
  // Its page names the source too.
  await copied.getByRole("link", { name: copyId }).click();
  await page.getByRole("heading", { level: 1, name: `${copyId} (console-copy-1)` }).waitFor();
  assert.equal(await detail(page, "Source AMI ID"), imageId);
  assert.equal(await detail(page, "Source region"), "us-east-1");
  await openAmis(page);
  await page.getByRole("button", { name: "Region: eu-west-1" }).click();
  await page.getByRole("menuitem", { name: "us-east-1" }).click();
  await row(page, imageId).waitFor();
});

test("Edit AMI permissions: share with an account, who finds it under Shared with me; public; private", async () => {
  const { page } = main;
  let dialog = await action(page, imageId, "Edit AMI permissions");
  await dialog.getByRole("radio", { name: /^Private/ }).waitFor();
  assert.equal(await dialog.getByRole("radio", { name: /^Private/ }).isChecked(), true);
  await dialog.getByLabel("AWS account ID").fill("12345");
  await dialog.getByRole("button", { name: "Add account" }).click();
  await dialog.getByText("An AWS account ID is 12 digits.").waitFor();
  await dialog.getByLabel("AWS account ID").fill(bob.accountId);
  await dialog.getByRole("button", { name: "Add account" }).click();
  await dialog.getByRole("table", { name: "Shared accounts" }).getByText(bob.accountId).waitFor();
  await noAxeViolations(page, "Edit AMI permissions");
  await screenshot(page, "images-permissions");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(await launchPermissions(imageId), [bob.accountId]);

  // Bob, in a browser context of his own.
  const other = await openConsole(browser, daemon.url);
  await signIn(other.page, bob);
  await openAmis(other.page);
  await showView(other.page, "Shared with me");
  await row(other.page, imageId).waitFor();
  assert.ok(((await row(other.page, imageId).textContent()) ?? "").includes("console-image-1"));
  assert.equal(await row(other.page, bobSharedId).count(), 0, "his own image is not shared with him");
  await noAxeViolations(other.page, "AMIs shared with me");
  await screenshot(other.page, "images-shared-with-me");
  // Not the owner: the owner's actions are unavailable to him.
  await other.page.getByRole("checkbox", { name: `Select ${imageId}` }).check();
  await other.page.getByRole("button", { name: "Actions" }).click();
  assert.equal(
    await other.page.getByRole("menuitem", { name: "Deregister AMI" }).getAttribute("aria-disabled"),
    "true",
  );
  assertClean(other);
  await other.context.close();

  dialog = await action(page, imageId, "Edit AMI permissions");
  await dialog.getByRole("table", { name: "Shared accounts" }).getByText(bob.accountId).waitFor();
  await dialog.getByRole("radio", { name: /^Public/ }).check();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(await launchPermissions(imageId), [bob.accountId, "group:all"].sort());
  assert.equal((await describe(admin, imageId)).Public, true);
  await row(page, imageId).filter({ hasText: "Public" }).waitFor();

  dialog = await action(page, imageId, "Edit AMI permissions");
  await dialog.getByRole("radio", { name: /^Private/ }).check();
  await dialog.getByRole("button", { name: `Remove ${bob.accountId}` }).click();
  await dialog.getByText("Not shared with any account.").waitFor();
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.deepEqual(await launchPermissions(imageId), []);
  await row(page, imageId).filter({ hasText: "Private" }).waitFor();
});

test("Manage AMI deprecation: enable at a date and time, then disable", async () => {
  const { page } = main;
  let dialog = await action(page, imageId, "Manage AMI deprecation");
  await dialog.getByRole("checkbox", { name: "Enable deprecation" }).check();
  const date = dialog.getByLabel("Deprecation date (UTC)");
  await date.fill("");
  await date.pressSequentially("2030/01/15");
  const time = dialog.getByLabel("Deprecation time (UTC)");
  await time.fill("");
  await time.pressSequentially("12:30");
  await noAxeViolations(page, "Manage AMI deprecation");
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal(
    Date.parse((await describe(admin, imageId)).DeprecationTime ?? ""),
    Date.UTC(2030, 0, 15, 12, 30),
  );

  dialog = await action(page, imageId, "Manage AMI deprecation");
  await dialog.getByRole("checkbox", { name: "Enable deprecation" }).uncheck();
  await dialog.getByRole("button", { name: "Save" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal((await describe(admin, imageId)).DeprecationTime, undefined);
});

test("deregistration protection refuses a deregister (EC2's error shown); deregister with its snapshots", async () => {
  const { page } = main;
  let dialog = await action(page, imageId, "Enable deregistration protection");
  await dialog.getByRole("button", { name: "Enable protection" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal((await describe(admin, imageId)).DeregistrationProtection, "enabled");

  dialog = await action(page, imageId, "Deregister AMI");
  await dialog.getByRole("checkbox", { name: "Delete associated snapshots" }).check();
  await dialog.getByRole("button", { name: "Deregister AMI" }).click();
  await dialog.getByText("InvalidParameterValue").waitFor();
  await noAxeViolations(page, "Deregister AMI");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  dialog = await action(page, imageId, "Disable deregistration protection");
  await dialog.getByRole("button", { name: "Disable protection" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal((await describe(admin, imageId)).DeregistrationProtection, "disabled");

  dialog = await action(page, imageId, "Deregister AMI");
  await dialog.getByRole("checkbox", { name: "Delete associated snapshots" }).check();
  await dialog.getByRole("button", { name: "Deregister AMI" }).click();
  await dialog.waitFor({ state: "hidden" });
  await page.getByText(`Deleted snapshots: ${snapshotId}`).waitFor();
  await row(page, imageId).waitFor({ state: "detached" });
  await assert.rejects(describe(admin, imageId), { name: "InvalidAMIID.NotFound" });
  await assert.rejects(admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })), {
    name: "InvalidSnapshot.NotFound",
  });
  assertClean(main, ["400 CopyImage", "400 DeregisterImage"]);
});
