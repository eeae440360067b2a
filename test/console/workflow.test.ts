// The seeds' lab, done in the console as the AWS console does it, against a real daemon with real
// VMs: launch the public base image with user data, watch it run, create an image from it and watch
// it go pending -> available, copy it to another region, switch region, launch the copy and read
// the marker the user data left in the copy's console output, share the AMI with a second account
// that then finds it under "Shared with me", deregister it. Every page visited passes axe with no
// serious violations and logs no errors; each step leaves a screenshot in test-artifacts/console/.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { Browser, Page } from "playwright-core";
import { startDaemon } from "../daemon.ts";
import { type Account, adminCredentials, createAccount, ec2 } from "../ec2-helpers.ts";
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

const USER_DATA = `#!/bin/sh
echo console-lab-7 > /etc/golden-marker
cat > /etc/rc.local <<'EOF'
#!/bin/sh
echo "rc.local: service up, marker=$(cat /etc/golden-marker)"
EOF
chmod +x /etc/rc.local
echo "CONSOLE-USERDATA-RAN"
`;

const dataDir = tempDir();
let daemon: Awaited<ReturnType<typeof startDaemon>>;
let browser: Browser;
let admin: EC2Client;
let adminEu: EC2Client;
let bob: Account;
let base: string;
const launched: { client: EC2Client; id: string }[] = [];

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { baseImage: true });
  admin = ec2(daemon, adminCredentials(dataDir));
  adminEu = ec2(daemon, adminCredentials(dataDir), "eu-west-1");
  bob = await createAccount(dataDir, "bob");
  base = await baseImageId(admin);
  browser = await launchBrowser();
});

after(async () => {
  for (const { client, id } of launched) {
    await client.send(new TerminateInstancesCommand({ InstanceIds: [id] })).catch(() => {});
  }
  await browser?.close();
  await daemon?.kill("SIGTERM");
});

/** Checks the page as it is now with axe and saves its screenshot. */
async function look(c: ConsolePage, name: string): Promise<void> {
  await screenshot(c.page, `workflow-${name}`);
  assert.deepEqual(await axeViolations(c.page), [], `axe on ${name}`);
  assertClean(c, [], name);
}

const nav = goTo;

/** Waits for a table row naming `id` to show `text` (live updates: the page is never reloaded). */
async function rowShows(
  page: Page,
  table: string,
  id: string,
  text: string,
  timeout = 600_000,
): Promise<void> {
  await page
    .getByRole("table", { name: table })
    .getByRole("row")
    .filter({ hasText: id })
    .filter({ hasText: text })
    .waitFor({ timeout });
}

async function selectRow(page: Page, id: string): Promise<void> {
  await page
    .getByRole("checkbox", { name: `Select ${id}` })
    .or(page.getByRole("radio", { name: `Select ${id}` }))
    .check();
}

async function menu(page: Page, button: string, ...items: string[]): Promise<void> {
  await page.getByRole("button", { name: button, exact: true }).click();
  for (const item of items) await page.getByRole("menuitem", { name: item, exact: true }).click();
}

async function show(page: Page, segment: string): Promise<void> {
  await page
    .getByRole("button", { name: segment, exact: true })
    .or(page.getByRole("radio", { name: segment }))
    .click();
}

async function region(page: Page, from: string, to: string): Promise<void> {
  await page.getByRole("button", { name: `Region: ${from}` }).click();
  await page
    .getByRole("menuitemcheckbox", { name: to })
    .or(page.getByRole("menuitem", { name: to }))
    .click();
}

/** The id matching `pattern` in the newest flash message, once it shows one. */
async function flashedId(page: Page, pattern: RegExp): Promise<string> {
  const newest = page.getByRole("list", { name: "Notifications" }).getByRole("listitem").first();
  await newest.filter({ hasText: pattern }).waitFor({ timeout: 60_000 });
  return ((await newest.textContent()) ?? "").match(pattern)![0];
}

async function launchFromImage(
  c: ConsolePage,
  imageId: string,
  name: string,
  userData?: string,
): Promise<string> {
  const { page } = c;
  await selectRow(page, imageId);
  await page.getByRole("button", { name: "Launch instance from AMI" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  if (userData) await page.getByLabel("User data").fill(userData);
  await look(c, `launch-${name}`);
  await page.getByRole("button", { name: "Launch instance", exact: true }).click();
  await page.waitForURL(/\/console\/instances$/);
  return flashedId(page, /i-[0-9a-f]{8,17}/);
}

async function consoleOutputShows(c: ConsolePage, instanceId: string, text: string): Promise<string> {
  const { page } = c;
  await page.getByRole("link", { name: instanceId, exact: true }).first().click();
  await page.getByRole("tab", { name: "Console output" }).click();
  const follow = page.getByLabel("Follow");
  if (!(await follow.isChecked())) await follow.check();
  const pre = page.locator('pre[aria-label="Console output"]');
  await pre.filter({ hasText: text }).waitFor({ timeout: 600_000 });
  return (await pre.textContent()) ?? "";
}

test("the seeds' lab in the console: launch, image, copy, launch the copy, share, deregister", async () => {
  const c = await openConsole(browser, daemon.url);
  const { page } = c;
  await look(c, "01-sign-in");
  await signIn(page, adminCredentials(dataDir));

  // Images > AMIs > Public images: the base image; Launch instance from AMI with user data.
  await nav(page, "AMIs");
  await show(page, "Public images");
  await rowShows(page, "AMIs", base, "available", 60_000);
  await look(c, "02-public-images");
  const source = await launchFromImage(c, base, "web-1", USER_DATA);
  launched.push({ client: admin, id: source });
  await rowShows(page, "Instances", source, "running");
  await look(c, "03-instances-running");
  await consoleOutputShows(c, source, "CONSOLE-USERDATA-RAN");
  await look(c, "04-console-output");

  // Actions > Image and templates > Create image; watch it go pending -> available.
  await nav(page, "Instances");
  await selectRow(page, source);
  await menu(page, "Actions", "Image and templates", "Create image");
  await page.getByLabel("Image name").fill("golden-console");
  await page.getByLabel("Image description").fill("made in the console");
  await look(c, "05-create-image");
  await page.getByRole("button", { name: "Create image", exact: true }).click();
  const golden = await flashedId(page, /ami-[0-9a-f]{8,17}/);
  await nav(page, "AMIs");
  await show(page, "Owned by me");
  await rowShows(page, "AMIs", golden, "pending", 30_000).catch(() => {}); // it may be done already
  await rowShows(page, "AMIs", golden, "available");
  await look(c, "06-image-available");
  const img = (await admin.send(new DescribeImagesCommand({ ImageIds: [golden] }))).Images![0];
  assert.equal(img.Name, "golden-console");
  assert.equal(img.Description, "made in the console");

  // Copy AMI to eu-west-1, switch region, watch the copy become available, launch it.
  await selectRow(page, golden);
  await menu(page, "Actions", "Copy AMI");
  await page.getByLabel("Destination Region").click();
  await page.getByRole("option", { name: "eu-west-1" }).click();
  await look(c, "07-copy-ami");
  await page.getByRole("button", { name: "Copy AMI", exact: true }).click();
  const copy = await flashedId(page, new RegExp(`ami-(?!${golden.slice(4)})[0-9a-f]{8,17}`));
  await region(page, "us-east-1", "eu-west-1");
  await nav(page, "AMIs");
  await rowShows(page, "AMIs", copy, "available");
  await look(c, "08-copy-in-eu-west-1");
  const copied = (await adminEu.send(new DescribeImagesCommand({ ImageIds: [copy] }))).Images![0];
  assert.equal(copied.SourceImageId, golden);
  const euInstance = await launchFromImage(c, copy, "web-eu");
  launched.push({ client: adminEu, id: euInstance });
  assert.equal((await describeInstance(adminEu, euInstance)).ImageId, copy);
  // The marker the user data wrote in us-east-1 is on the copy's disk: rc.local prints it at boot.
  const euOut = await consoleOutputShows(c, euInstance, "rc.local: service up, marker=console-lab-7");
  assert.doesNotMatch(euOut, /CONSOLE-USERDATA-RAN/, "the copy does not run the source's user data");
  await look(c, "09-copy-console-output");

  // Back in us-east-1: share the AMI with bob; bob finds it under "Shared with me".
  await region(page, "eu-west-1", "us-east-1");
  await nav(page, "AMIs");
  await selectRow(page, golden);
  await menu(page, "Actions", "Edit AMI permissions");
  await page.getByLabel("AWS account ID").fill(bob.accountId);
  await page.getByRole("button", { name: "Add account" }).click();
  await look(c, "10-permissions");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("button", { name: "Save changes" }).waitFor({ state: "detached" });
  const perms = await admin.send(
    new DescribeImageAttributeCommand({ ImageId: golden, Attribute: "launchPermission" }),
  );
  assert.deepEqual(
    perms.LaunchPermissions?.map((p) => p.UserId),
    [bob.accountId],
  );
  const b = await openConsole(browser, daemon.url);
  await signIn(b.page, bob);
  await nav(b.page, "AMIs");
  await show(b.page, "Shared with me");
  await rowShows(b.page, "AMIs", golden, "available", 60_000);
  await screenshot(b.page, "workflow-11-shared-with-me");
  assert.deepEqual(await axeViolations(b.page), []);
  assertClean(b);
  await b.context.close();

  // Deregister; its snapshots stay (the option to delete them is left off).
  await selectRow(page, golden);
  await menu(page, "Actions", "Deregister AMI");
  await look(c, "12-deregister");
  await page.getByRole("button", { name: "Deregister AMI", exact: true }).click();
  const deadline = Date.now() + 60_000;
  while (
    (await admin.send(new DescribeImagesCommand({ ImageIds: [golden] })).catch(() => undefined))?.Images
      ?.length
  ) {
    assert.ok(Date.now() < deadline, "the AMI is still described a minute after Deregister");
    await new Promise((r) => setTimeout(r, 500));
  }
  const snapshots = img.BlockDeviceMappings!.flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
  assert.ok(snapshots.length >= 1);
  const left = await admin.send(new DescribeSnapshotsCommand({ SnapshotIds: snapshots }));
  assert.equal(left.Snapshots?.length, snapshots.length, "the image's snapshots remain");
  await c.context.close();
});
