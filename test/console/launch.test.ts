// The console's Key pairs page and Launch instance wizard, end to end: Chromium driving the console
// of a real daemon (with the public base image). Key pairs are created (the private key arrives as
// a download that ssh-keygen accepts), imported and deleted through the UI; one instance is
// launched through the wizard and everything it asked for is read back with the SDK.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import {
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceStopped,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
} from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { Browser, Page } from "playwright-core";
import { type Daemon, startDaemon } from "../daemon.ts";
import { type Account, adminCredentials, type Credentials, createAccount, ec2 } from "../ec2-helpers.ts";
import { tempDir } from "../helpers.ts";
import { baseImageId, describeInstance } from "../instance-helpers.ts";
import {
  assertClean,
  axeViolations,
  goTo,
  launchBrowser,
  openConsole,
  screenshot,
  signIn,
} from "./browser.ts";

const run = promisify(execFile);
const dataDir = tempDir("strata-console-launch-");
const keyDir = tempDir("strata-console-keys-");
let daemon: Daemon;
let browser: Browser;
let creds: Credentials;
let admin: EC2Client;
let imageId: string;
let other: Account;
let sharedImageId: string;

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1,eu-west-1", { baseImage: true });
  creds = adminCredentials(dataDir);
  admin = ec2(daemon, creds);
  [imageId, browser, other] = await Promise.all([
    baseImageId(admin),
    launchBrowser(),
    createAccount(dataDir, "launch-other"),
  ]);
  sharedImageId = await shareAnImage(ec2(daemon, other));
});

after(async () => {
  await browser?.close();
  await daemon?.kill("SIGTERM");
});

/** Another account registers an image (from an empty 1 GiB snapshot) and shares it with admin. */
async function shareAnImage(client: EC2Client): Promise<string> {
  const waiter = { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 };
  const vol = await client.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
  await waitUntilVolumeAvailable(waiter, { VolumeIds: [vol.VolumeId!] });
  const snap = await client.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId! }));
  await waitUntilSnapshotCompleted(waiter, { SnapshotIds: [snap.SnapshotId!] });
  const { ImageId } = await client.send(
    new RegisterImageCommand({
      Name: "shared-by-other",
      Architecture: "x86_64",
      RootDeviceName: "/dev/xvda",
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: snap.SnapshotId! } }],
    }),
  );
  const sts = new STSClient({ endpoint: daemon.url, region: "us-east-1", credentials: creds });
  const { Account: adminId } = await sts.send(new GetCallerIdentityCommand({}));
  await client.send(
    new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ UserId: adminId }] } }),
  );
  return ImageId!;
}

async function keyPairs(names?: string[]) {
  return (await admin.send(new DescribeKeyPairsCommand({ IncludePublicKey: true }))).KeyPairs!.filter(
    (k) => !names || names.includes(k.KeyName!),
  );
}

async function assertAccessible(page: Page, where: string) {
  assert.deepEqual(await axeViolations(page), [], `axe on ${where}`);
}

/** The console, signed in as admin; its errors and failed requests are checked with assertClean. */
async function open() {
  const c = await openConsole(browser, daemon.url);
  await signIn(c.page, creds);
  return c;
}

test("key pairs: create (downloaded once, a usable private key), refused name, import, delete", async () => {
  const c = await open();
  const { page, context } = c;
  await goTo(page, "Key pairs");
  const table = page.getByRole("table", { name: "Key pairs" });
  await table.waitFor();
  await page.getByText("No key pairs in this region").waitFor();
  await assertAccessible(page, "key pairs");

  // Create: the private key is a download, once; ssh-keygen derives the public key EC2 keeps.
  await page.getByRole("button", { name: "Create key pair" }).click();
  const dialog = page.getByRole("dialog", { name: "Create key pair" });
  await dialog.getByLabel("Key pair name").fill("console-rsa");
  await assertAccessible(page, "create key pair dialog");
  await screenshot(page, "key-pairs-create");
  const downloaded = page.waitForEvent("download");
  await dialog.getByRole("button", { name: "Create key pair" }).click();
  const download = await downloaded;
  assert.equal(download.suggestedFilename(), "console-rsa.pem");
  const pemFile = join(keyDir, "console-rsa.pem");
  await download.saveAs(pemFile);
  const pem = readFileSync(pemFile, "utf8");
  assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----\n?$/);
  chmodSync(pemFile, 0o600);
  const derived = (await run("ssh-keygen", ["-y", "-f", pemFile])).stdout
    .trim()
    .split(" ")
    .slice(0, 2)
    .join(" ");
  await table.getByRole("row", { name: /console-rsa/ }).waitFor();
  const [created] = await keyPairs(["console-rsa"]);
  assert.equal(created.KeyType, "rsa");
  assert.equal(
    created.PublicKey!.split(" ").slice(0, 2).join(" "),
    derived,
    "the download is this key's private half",
  );
  await page.getByText("Key pair console-rsa created").waitFor();
  assert.equal(await dialog.isVisible(), false);

  // A name EC2 refuses: the dialog shows the API's code, nothing is created.
  await page.getByRole("button", { name: "Create key pair" }).click();
  await dialog.getByLabel("Key pair name").fill("bad name é");
  await dialog.getByRole("button", { name: "Create key pair" }).click();
  await dialog.getByText(/^InvalidParameterValue: Invalid key name/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal((await keyPairs()).length, 1);

  // Import a public key pasted as text.
  const pubFile = join(keyDir, "imported");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", pubFile]);
  const publicKey = readFileSync(`${pubFile}.pub`, "utf8").trim();
  await page.getByRole("button", { name: "Import key pair" }).click();
  const importDialog = page.getByRole("dialog", { name: "Import key pair" });
  await importDialog.getByLabel("Key pair name").fill("console-imported");
  await importDialog.getByLabel("Public key contents").fill(publicKey);
  await assertAccessible(page, "import key pair dialog");
  await importDialog.getByRole("button", { name: "Import key pair" }).click();
  await table.getByRole("row", { name: /console-imported/ }).waitFor();
  const [imported] = await keyPairs(["console-imported"]);
  assert.equal(imported.KeyType, "ed25519");
  assert.equal(imported.PublicKey!.split(" ")[1], publicKey.split(" ")[1]);
  await screenshot(page, "key-pairs");

  // Delete the imported one, confirmed in a modal.
  await table.getByRole("checkbox", { name: `Select ${imported.KeyPairId}` }).check();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  const confirm = page.getByRole("dialog", { name: "Delete key pair" });
  await confirm.getByText("console-imported").waitFor();
  await confirm.getByRole("button", { name: "Delete", exact: true }).click();
  await table.getByRole("row", { name: /console-imported/ }).waitFor({ state: "detached" });
  assert.deepEqual(
    (await keyPairs()).map((k) => k.KeyName),
    ["console-rsa"],
  );
  await assertAccessible(page, "key pairs after changes");
  assertClean(c, ["400 CreateKeyPair"]);
  await context.close();
});

test("launch wizard: one instance with a name, key, user data, a bigger root and an extra volume", async () => {
  const c = await open();
  const { page, context } = c;

  await admin.send(new CreateKeyPairCommand({ KeyName: "wizard-key", KeyType: "ed25519" }));
  // Launch instance from an AMI shared by another account: ?imageId= preselects it.
  await page.goto(`${daemon.url}/console/launch?imageId=${sharedImageId}`);
  const ami = page.getByLabel("Amazon Machine Image (AMI)");
  await page.getByRole("heading", { name: "Launch an instance" }).waitFor();
  await ami.getByText(sharedImageId).waitFor();
  await ami.getByText("shared-by-other").waitFor();

  await page.goto(`${daemon.url}/console/launch?imageId=${imageId}`);
  await ami.getByText(imageId).waitFor();
  // The labels other tests rely on name one control each. Matched exactly: a Cloudscape select's
  // closed option list is named after its trigger's text ("vpc-...", "No preference" subnet...).
  for (const label of [
    "Name",
    "Amazon Machine Image (AMI)",
    "Instance type",
    "Key pair",
    "VPC",
    "Subnet",
    "Security groups",
    "User data",
    "Root volume size (GiB)",
    "Number of instances",
  ]) {
    assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
  }
  // The workflow test finds "User data" loosely.
  assert.equal(await page.getByLabel("User data").count(), 1);
  await page.getByLabel("Name", { exact: true }).fill("console-launched");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.getByRole("textbox", { name: /Tag key/ }).fill("team");
  await page.getByRole("textbox", { name: /Tag value/ }).fill("console");
  // Default type t2.micro; pick t3.micro through the filter; an arm64 type is listed disabled.
  const type = page.getByLabel("Instance type", { exact: true });
  await type.getByText("t2.micro").waitFor();
  await type.click();
  await page.getByRole("combobox", { name: "Find a type" }).fill("t4g.micro");
  await assert.doesNotReject(
    page.getByRole("option", { name: /t4g\.micro/, disabled: true }).waitFor({ timeout: 5000 }),
  );
  await page.getByRole("combobox", { name: "Find a type" }).fill("t3.micro");
  await page.getByRole("option", { name: /^t3\.micro/ }).click();
  await type.getByText("t3.micro").waitFor();

  await page.getByLabel("Key pair", { exact: true }).click();
  await page.getByRole("option", { name: /^wizard-key/ }).click();

  // The default VPC and its default security group are preselected.
  const { Reservations: none } = await admin.send(new DescribeInstancesCommand({}));
  assert.equal(none?.length ?? 0, 0);
  await page.getByLabel("VPC", { exact: true }).getByText(/vpc-/).waitFor();
  const { SecurityGroups } = await admin.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["default"] }] }),
  );
  await page.getByText(`${SecurityGroups![0].GroupId} · default VPC security group`).waitFor();

  // Storage: the root is at least the image's size (1 GiB); 3 GiB asked, plus a 2 GiB volume.
  const root = page.getByLabel("Root volume size (GiB)");
  assert.equal(await root.inputValue(), "1");
  await root.fill("3");
  await page.getByRole("button", { name: "Add new volume" }).click();
  assert.equal(await page.getByRole("textbox", { name: /Device name/ }).inputValue(), "/dev/sdf");
  await page.getByRole("spinbutton", { name: /Size \(GiB\)/ }).fill("2");

  const userData = "#!/bin/sh\necho CONSOLE-USERDATA é\n";
  await page.getByLabel("User data", { exact: true }).fill(userData);
  await page.getByLabel("Number of instances").fill("1");
  await assertAccessible(page, "launch wizard");
  await screenshot(page, "launch-wizard");

  // Two clicks in a row launch one instance: the second finds the first on its way.
  const button = page.getByRole("button", { name: "Launch instance" });
  await button.dblclick();
  await page.waitForURL(/\/console\/instances$/);
  const link = page.getByRole("list", { name: "Notifications" }).getByRole("link", { name: /^i-/ });
  await link.waitFor();
  const id = (await link.textContent())!.trim();
  assert.equal(await link.getAttribute("href"), `/console/instances/${id}`);

  const { Reservations } = await admin.send(
    new DescribeInstancesCommand({ Filters: [{ Name: "tag:Name", Values: ["console-launched"] }] }),
  );
  assert.deepEqual(
    Reservations?.flatMap((r) => r.Instances!.map((i) => i.InstanceId)),
    [id],
    "one instance, however many clicks",
  );
  const instance = await describeInstance(admin, id);
  assert.equal(instance.ImageId, imageId);
  assert.equal(instance.InstanceType, "t3.micro");
  assert.equal(instance.KeyName, "wizard-key");
  const tags = Object.fromEntries(instance.Tags!.map((t) => [t.Key, t.Value]));
  assert.equal(tags.Name, "console-launched");
  assert.equal(tags.team, "console");
  const attr = await admin.send(
    new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
  );
  assert.equal(Buffer.from(attr.UserData!.Value!, "base64").toString("utf8"), userData);
  const devices = new Map(instance.BlockDeviceMappings!.map((m) => [m.DeviceName, m.Ebs!.VolumeId!]));
  assert.deepEqual([...devices.keys()].sort(), ["/dev/sdf", "/dev/xvda"]);
  const { Volumes } = await admin.send(new DescribeVolumesCommand({ VolumeIds: [...devices.values()] }));
  const size = (device: string) => Volumes!.find((v) => v.VolumeId === devices.get(device))!.Size;
  assert.equal(size("/dev/xvda"), 3);
  assert.equal(size("/dev/sdf"), 2);
  // A guest still booting ignores the ACPI shutdown that terminate sends first (EC2 waits for it,
  // so does Strata, up to a minute): a forced stop ends it at once, then it is terminated.
  await admin.send(new StopInstancesCommand({ InstanceIds: [id], Force: true }));
  await waitUntilInstanceStopped(
    { client: admin, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { InstanceIds: [id] },
  );
  await admin.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  assertClean(c);
  await context.close();
});

test("launch wizard: a refused launch shows the API's code and stays on the page", async () => {
  const c = await open();
  const { page, context } = c;
  await page.goto(`${daemon.url}/console/launch?imageId=${imageId}`);
  await page.getByLabel("Amazon Machine Image (AMI)").getByText(imageId).waitFor();
  // A device name EC2 does not take: RunInstances answers InvalidDevice.
  await page.getByRole("button", { name: "Add new volume" }).click();
  await page.getByRole("textbox", { name: /Device name/ }).fill("/dev/nope");
  // User data loaded from a file lands in the text area.
  await page.getByLabel("Load a script from a file").setInputFiles({
    name: "boot.sh",
    mimeType: "text/x-sh",
    buffer: Buffer.from("#!/bin/sh\necho FROM-A-FILE\n"),
  });
  const userData = page.getByLabel("User data", { exact: true });
  await page.waitForFunction(
    (el) => (el as HTMLTextAreaElement).value !== "",
    await userData.elementHandle(),
  );
  assert.equal(await userData.inputValue(), "#!/bin/sh\necho FROM-A-FILE\n");
  await page.getByRole("button", { name: "Launch instance" }).click();
  await page.getByText(/InvalidDevice: Value \(\/dev\/nope\)/).waitFor();
  assert.match(page.url(), /\/console\/launch/);
  assertClean(c, ["400 RunInstances"]);
  await context.close();
});
