// The console's snapshots and volumes pages against a real daemon, no VMs: data prepared with the
// SDK (volumes written through the admin socket), what the pages do driven through the UI and read
// back through the SDK. Live updates are watched without reloading the page.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import {
  CompleteSnapshotCommand,
  EBSClient,
  PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from "@aws-sdk/client-ebs";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumeStatusCommand,
  DescribeVolumesCommand,
  type EC2Client,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import type { Browser, Page } from "playwright-core";
import { DescribeStorageUsageCommand, type StorageUsage } from "../../src/console/api/storage-usage.ts";
import { formatBytes } from "../../src/console/pages/shared/format.ts";
import { type Daemon, startDaemon } from "../daemon.ts";
import { type Account, adminCredentials, type Credentials, createAccount, ec2 } from "../ec2-helpers.ts";
import { BLOCK_SIZE, MiB, seededBytes, tempDir } from "../helpers.ts";
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
let browser: Browser;
let creds: Credentials;
let admin: EC2Client;
let adminEu: EC2Client;
let bob: Account;
let page: Page;
let volumeId = "";
let first = ""; // SDK snapshot of the volume
let second = ""; // UI snapshot of the same volume after two blocks changed
let main: ConsolePage;

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1");
  creds = adminCredentials(dataDir);
  admin = ec2(daemon, creds);
  adminEu = ec2(daemon, creds, "eu-west-1");
  bob = await createAccount(dataDir, "bob");
  const vol = await admin.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
  volumeId = vol.VolumeId!;
  await daemon.client().write(volumeId, 0, seededBytes("console-storage", 16 * MiB));
  const s = await admin.send(new CreateSnapshotCommand({ VolumeId: volumeId, Description: "sdk snapshot" }));
  first = s.SnapshotId!;
  await completed(admin, first);
  // Two blocks change: the next snapshot's unique bytes are those two chunks.
  await daemon.client().write(volumeId, 0, seededBytes("console-change", 2 * BLOCK_SIZE));
  browser = await launchBrowser();
  main = await openConsole(browser, daemon.url);
  page = main.page;
  await signIn(page, creds);
});

after(async () => {
  await browser?.close();
  await daemon?.kill("SIGTERM");
});

async function completed(client: EC2Client, id: string) {
  await waitUntilSnapshotCompleted(
    { client, maxWaitTime: 120, minDelay: 1, maxDelay: 1 },
    { SnapshotIds: [id] },
  );
}

async function usageOf(id: string): Promise<StorageUsage> {
  return (await admin.send(new DescribeStorageUsageCommand({ SnapshotIds: [id] }))).StorageUsages![0];
}

async function go(p: Page, link: string) {
  await goTo(p, link);
}

async function noAxe(p: Page) {
  assert.deepEqual(await axeViolations(p), []);
}

const snapshotsTable = (p: Page) => p.getByRole("table", { name: "Snapshots" });
const volumesTable = (p: Page) => p.getByRole("table", { name: "Volumes" });
const row = (table: ReturnType<Page["getByRole"]>, text: string) =>
  table.getByRole("row").filter({ hasText: text });

async function action(p: Page, item: string) {
  await p.getByRole("button", { name: "Actions" }).click();
  await p.getByRole("menuitem", { name: item }).click();
}

test("Volumes: create a snapshot through the UI; it shows up on the Snapshots page and completes there, unique bytes = the changed chunks", async () => {
  await go(page, "Volumes");
  await row(volumesTable(page), volumeId).waitFor();
  await noAxe(page);
  await page.getByRole("radio", { name: `Select ${volumeId}` }).check();
  await action(page, "Create snapshot");
  const dialog = page.getByRole("dialog", { name: "Create snapshot" });
  await dialog.getByLabel("Description").fill("ui snapshot");
  await dialog.getByRole("button", { name: "Create snapshot" }).click();
  // The flash names the new snapshot as a link.
  const flash = page.getByRole("link", { name: /^snap-/ });
  second = (await flash.textContent())!.trim();
  const sdk = (await admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [second] }))).Snapshots![0];
  assert.equal(sdk.Description, "ui snapshot");
  assert.equal(sdk.VolumeId, volumeId);
  await go(page, "Snapshots");
  const r = row(snapshotsTable(page), second);
  await r.getByText("completed").waitFor({ timeout: 60_000 });
  assert.match((await r.textContent())!, /ui snapshot/);
  const u = await usageOf(second);
  // Stored bytes of owned snapshots come from DescribeStorageUsage.
  await r.getByText(formatBytes(u.StoredBytes)).waitFor();
  assert.ok(u.UniqueBytes! >= 2 * BLOCK_SIZE && u.UniqueBytes! < 2.05 * BLOCK_SIZE, `${u.UniqueBytes}`);
  assert.equal(u.SharedBytes, (await usageOf(first)).SharedBytes);
  await noAxe(page);
});

test("Snapshots: a pending snapshot shows its progress and turns completed without a reload", async () => {
  // An EBS direct API snapshot stays pending until completed: the page is watched meanwhile.
  const ebs = new EBSClient({
    endpoint: daemon.url,
    region: "us-east-1",
    credentials: creds,
    maxAttempts: 1,
  });
  const start = await ebs.send(
    new StartSnapshotCommand({ VolumeSize: 1, Description: "direct upload", Timeout: 60 }),
  );
  const id = start.SnapshotId!;
  const block = seededBytes("direct", BLOCK_SIZE);
  await ebs.send(
    new PutSnapshotBlockCommand({
      SnapshotId: id,
      BlockIndex: 0,
      BlockData: block,
      DataLength: BLOCK_SIZE,
      Checksum: createHash("sha256").update(block).digest("base64"),
      ChecksumAlgorithm: "SHA256",
      Progress: 40,
    }),
  );
  const r = row(snapshotsTable(page), id);
  // With its progress, as the AWS console's Status column shows it.
  await r.getByText(/pending \(\d+%\)/).waitFor({ timeout: 30_000 });
  await screenshot(page, "snapshots-list");
  await ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 1 }));
  await r.getByText("completed").waitFor({ timeout: 30_000 });
  ebs.destroy();
});

test("Snapshot details: fields, permissions and the storage numbers DescribeStorageUsage gives", async () => {
  await row(snapshotsTable(page), second).getByRole("link", { name: second }).click();
  await page.getByRole("heading", { level: 1, name: second }).waitFor();
  const u = await usageOf(second);
  const summary = page.getByTestId("usage-summary");
  await summary
    .getByText(
      `${formatBytes(u.StoredBytes)} stored, of which ${formatBytes(u.UniqueBytes)} unique and ${formatBytes(u.SharedBytes)} shared`,
      { exact: false },
    )
    .waitFor();
  for (const label of [
    "Logical size",
    "Data (non-zero blocks)",
    "Stored bytes",
    "Unique bytes",
    "Shared bytes",
  ]) {
    await page.getByText(label, { exact: true }).waitFor();
  }
  await page.getByText(formatBytes(u.LogicalBytes), { exact: true }).first().waitFor();
  await page.getByText(formatBytes(u.DataBytes), { exact: true }).first().waitFor();
  assert.equal(u.DataBytes, 32 * BLOCK_SIZE);
  await page
    .getByRole("img", { name: "Unique and shared stored bytes" })
    .or(page.getByLabel("Unique and shared stored bytes"))
    .first()
    .waitFor();
  await page.getByText("Private", { exact: true }).waitFor();
  await noAxe(page);
  await screenshot(page, "snapshots-details");
  await go(page, "Snapshots");
});

test("Copy snapshot to eu-west-1 through the UI", async () => {
  await page.getByRole("radio", { name: `Select ${second}` }).check();
  await action(page, "Copy snapshot");
  const dialog = page.getByRole("dialog", { name: "Copy snapshot" });
  await dialog.getByLabel("Destination Region").click();
  await page.getByRole("option", { name: "eu-west-1" }).click();
  await dialog.getByLabel("Description").fill("ui copy");
  await dialog.getByRole("button", { name: "Copy snapshot" }).click();
  await page.getByText(/in eu-west-1/).waitFor();
  const copies = (await adminEu.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!;
  const copy = copies.find((s) => s.Description === "ui copy");
  assert.ok(copy, "the copy is in eu-west-1");
  await completed(adminEu, copy.SnapshotId!);
});

test("Create a volume from a snapshot through the UI; its initialization reaches 100 %", async () => {
  await page.getByRole("radio", { name: `Select ${first}` }).check();
  await action(page, "Create volume from snapshot");
  const dialog = page.getByRole("dialog", { name: "Create volume from snapshot" });
  assert.equal(await dialog.getByLabel("Size (GiB)").inputValue(), "1");
  await dialog.getByLabel("Volume type").click();
  await page.getByRole("option", { name: "gp2" }).click();
  await dialog.getByRole("button", { name: "Create volume" }).click();
  await page.getByText(/Created volume vol-/).waitFor();
  const restored = (
    await admin.send(new DescribeVolumesCommand({ Filters: [{ Name: "snapshot-id", Values: [first] }] }))
  ).Volumes!;
  assert.equal(restored.length, 1);
  const vol = restored[0];
  assert.equal(vol.VolumeType, "gp2");
  await go(page, "Volumes");
  const r = row(volumesTable(page), vol.VolumeId!);
  await r.getByRole("link", { name: first }).waitFor();
  await r.getByText("100 %").waitFor({ timeout: 60_000 });
  const status = await admin.send(new DescribeVolumeStatusCommand({ VolumeIds: [vol.VolumeId!] }));
  assert.equal(status.VolumeStatuses![0].InitializationStatusDetails?.Progress, 100);
  await noAxe(page);
  await screenshot(page, "volumes-list");
});

test("Share a snapshot with a second account; it sees it under Shared with me", async () => {
  await go(page, "Snapshots");
  await page.getByRole("radio", { name: `Select ${first}` }).check();
  await action(page, "Modify permissions");
  const dialog = page.getByRole("dialog", { name: "Modify permissions" });
  await dialog.getByLabel("AWS account ID").fill(bob.accountId);
  await dialog.getByRole("button", { name: "Add account" }).click();
  await dialog.getByText(bob.accountId, { exact: true }).waitFor();
  await noAxe(page);
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await page.getByText(`Permissions of ${first} saved`).waitFor();
  const attr = await admin.send(
    new DescribeSnapshotAttributeCommand({ SnapshotId: first, Attribute: "createVolumePermission" }),
  );
  assert.deepEqual(attr.CreateVolumePermissions, [{ UserId: bob.accountId }]);

  const other = await openConsole(browser, daemon.url);
  await signIn(other.page, bob);
  await go(other.page, "Snapshots");
  await other.page.getByRole("button", { name: "Shared with me" }).click();
  await row(snapshotsTable(other.page), first).waitFor();
  assert.equal(await row(snapshotsTable(other.page), second).count(), 0);
  await noAxe(other.page);
  await other.page.getByRole("button", { name: "Public" }).click();
  await other.page.getByText("No snapshots").waitFor();
  assertClean(other);
  await other.context.close();
});

test("Delete snapshot: confirmed; the API's refusal (an AMI uses it) is shown as the API gave it", async () => {
  await admin.send(
    new RegisterImageCommand({
      Name: "pins-first",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: first } }],
    }),
  );
  await page.getByRole("button", { name: "Owned by me" }).click();
  await page.getByRole("radio", { name: `Select ${first}` }).check();
  await action(page, "Delete snapshot");
  await page.getByRole("dialog", { name: "Delete snapshot" }).getByRole("button", { name: "Delete" }).click();
  await page.getByText(/InvalidSnapshot\.InUse/).waitFor();

  await page.getByRole("radio", { name: `Select ${second}` }).check();
  await action(page, "Delete snapshot");
  const dialog = page.getByRole("dialog", { name: "Delete snapshot" });
  await dialog.getByText(second).waitFor();
  await dialog.getByRole("button", { name: "Delete" }).click();
  await page.getByText(`Deleted snapshot ${second}`).waitFor();
  await assert.rejects(admin.send(new DescribeSnapshotsCommand({ SnapshotIds: [second] })), {
    name: "InvalidSnapshot.NotFound",
  });
  await row(snapshotsTable(page), second).waitFor({ state: "detached" });
  assertClean(main, ["400 DeleteSnapshot"]);
});
