// The console's security groups pages against a real daemon (no VMs), driven through Chromium as a
// user would: list, create with rules, edit rules (the diff is read back through the SDK), the
// API's errors shown with their codes, delete with confirmation. Also the account menu's alias,
// which the console reads with IAM ListAccountAliases.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import type { Browser, Locator, Page } from "playwright-core";
import { type Daemon, startDaemon } from "../daemon.ts";
import { type Account, createAccount, ec2 } from "../ec2-helpers.ts";
import { tempDir } from "../helpers.ts";
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
let account: Account;
let client: EC2Client;
let consolePage: ConsolePage;
let page: Page;
/** Made through the UI by the create test, used by the ones after it. */
let webGroupId = "";

before(async () => {
  daemon = await startDaemon(dataDir, "us-east-1");
  account = await createAccount(dataDir, "webteam", { alias: "web-team" });
  client = ec2(daemon, account);
  browser = await launchBrowser();
  consolePage = await openConsole(browser, daemon.url);
  page = consolePage.page;
  await signIn(page, account);
});
after(async () => {
  await browser?.close();
  await daemon?.kill("SIGTERM");
});

/** Every page visited: no serious axe violation, and nothing failed but what the test provoked. */
async function checkPage(provoked: string[] = []): Promise<void> {
  assert.deepEqual(await axeViolations(page), []);
  const since = {
    ...consolePage,
    errors: consolePage.errors.slice(checked.errors),
    failed: consolePage.failed.slice(checked.failed),
  };
  assertClean(since, provoked);
  checked = { errors: consolePage.errors.length, failed: consolePage.failed.length };
}
let checked = { errors: 0, failed: 0 };

/** The group's rules of one direction as [protocol, from, to, peer, description] rows, sorted. */
async function rules(groupId: string, egress: boolean): Promise<string[][]> {
  const res = await client.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
  );
  return (res.SecurityGroupRules ?? [])
    .filter((r: SecurityGroupRule) => !!r.IsEgress === egress)
    .map((r) => [
      r.IpProtocol ?? "",
      String(r.FromPort),
      String(r.ToPort),
      r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId ?? "",
      r.Description ?? "",
    ])
    .sort((a, b) => a.join().localeCompare(b.join()));
}

async function groupIds(): Promise<string[]> {
  const res = await client.send(new DescribeSecurityGroupsCommand({}));
  return (res.SecurityGroups ?? []).map((g) => g.GroupId ?? "");
}

async function openList(): Promise<void> {
  await goTo(page, "Security groups");
  await page.getByRole("table", { name: "Security groups" }).waitFor();
}

/** Row `i` of a rules editor: Cloudscape's AttributeEditor makes each row a group. */
function row(editor: Locator, i: number): Locator {
  return editor.getByRole("group").nth(i);
}

/** Picks the row's rule type (a Select: a button opening a listbox). */
async function chooseType(r: Locator, type: string): Promise<void> {
  await r.getByRole("button", { name: /^Type/ }).click();
  await page.getByRole("option", { name: type, exact: true }).click();
}

const field = (r: Locator, label: string) => r.getByRole("textbox", { name: label, exact: true });
const peer = (r: Locator, label: "Source" | "Destination") =>
  r.getByRole("combobox", { name: label, exact: true });

test("the account menu shows the account's alias and id (IAM ListAccountAliases)", async () => {
  const menu = page.getByRole("button", { name: `Account web-team (${account.accountId})` });
  await menu.waitFor();
  await checkPage();
});

test("the list shows the VPC's default group, with its rule counts", async () => {
  await openList();
  const table = page.getByRole("table", { name: "Security groups" });
  const row = table.getByRole("row").filter({ hasText: "default VPC security group" });
  await row.waitFor();
  // The list's DescribeSecurityGroups made the default VPC and its group; the SDK sees the same.
  const groups = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  assert.equal(groups.length, 1);
  const dflt = groups[0];
  assert.equal(dflt.GroupName, "default");
  await row.getByRole("link", { name: dflt.GroupId }).waitFor();
  const cells = await row.getByRole("cell").allInnerTexts();
  assert.ok(cells.includes(dflt.VpcId ?? "-"), cells.join("|"));
  // The default group: one inbound rule (its own members), one outbound (all traffic).
  assert.deepEqual(cells.slice(-2), ["1", "1"]);
  await checkPage();
  await screenshot(page, "security-groups-list");
});

test("create a security group with an inbound SSH rule from 10.0.0.0/8", async () => {
  await page.getByRole("link", { name: "Create security group" }).click();
  await page.getByRole("heading", { name: "Create security group", level: 1 }).waitFor();
  await page.getByLabel("Security group name").fill("web");
  await page.getByLabel("Description", { exact: true }).first().fill("web servers");
  // The default VPC is preselected.
  const vpcs = (await client.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
  const defaultVpc = vpcs.find((v) => v.IsDefault)?.VpcId ?? "";
  await page.getByLabel("VPC", { exact: true }).filter({ hasText: defaultVpc }).waitFor();
  const inbound = page.getByRole("group", { name: "Inbound rules" });
  await inbound.getByRole("button", { name: "Add rule" }).click();
  await chooseType(row(inbound, 0), "SSH");
  assert.equal(await field(row(inbound, 0), "Port range").inputValue(), "22");
  await peer(row(inbound, 0), "Source").fill("10.0.0.0/8");
  await field(row(inbound, 0), "Description").fill("admins");
  // Outbound starts with EC2's default rule, as on AWS.
  const outbound = page.getByRole("group", { name: "Outbound rules" });
  assert.equal(await peer(row(outbound, 0), "Destination").inputValue(), "0.0.0.0/0");
  await checkPage();
  await screenshot(page, "security-groups-create");
  await page.getByRole("button", { name: "Create security group" }).click();

  await page.waitForURL(/\/console\/security-groups\/sg-[0-9a-f]+$/);
  webGroupId = page.url().split("/").pop() ?? "";
  await page.getByRole("heading", { name: webGroupId, level: 1 }).waitFor();
  await page.getByText(`Created security group ${webGroupId}.`).waitFor();
  const [group] =
    (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [webGroupId] }))).SecurityGroups ?? [];
  assert.equal(group.GroupName, "web");
  assert.equal(group.Description, "web servers");
  assert.equal(group.VpcId, defaultVpc);
  assert.deepEqual(await rules(webGroupId, false), [["tcp", "22", "22", "10.0.0.0/8", "admins"]]);
  assert.deepEqual(await rules(webGroupId, true), [["-1", "-1", "-1", "0.0.0.0/0", ""]]);
});

test("the details page shows the group and its inbound and outbound rules", async () => {
  const inboundTable = page.getByRole("table", { name: "Inbound rules" });
  const ssh = inboundTable.getByRole("row").filter({ hasText: "10.0.0.0/8" });
  await ssh.waitFor();
  const cells = await ssh.getByRole("cell").allInnerTexts();
  // The rule id is the row header; the cells follow it.
  assert.deepEqual(cells, ["IPv4", "SSH", "TCP", "22", "10.0.0.0/8", "admins"]);
  await page.getByText("web servers").first().waitFor();
  await checkPage();
  await screenshot(page, "security-groups-details");
  await page.getByRole("tab", { name: "Outbound rules" }).click();
  const outbound = page.getByRole("table", { name: "Outbound rules" });
  const all = await outbound
    .getByRole("row")
    .filter({ hasText: "0.0.0.0/0" })
    .getByRole("cell")
    .allInnerTexts();
  assert.deepEqual(all, ["IPv4", "All traffic", "All", "All", "0.0.0.0/0", "-"]);
  await checkPage();
  await page.getByRole("tab", { name: "Inbound rules" }).click();
});

test("edit inbound rules: add HTTP from anywhere, remove SSH", async () => {
  await page.getByRole("button", { name: "Edit inbound rules" }).click();
  await page.getByRole("heading", { name: "Edit inbound rules", level: 1 }).waitFor();
  const editor = page.getByRole("group", { name: "Inbound rules" });
  await peer(row(editor, 0), "Source").waitFor();
  assert.equal(await peer(row(editor, 0), "Source").inputValue(), "10.0.0.0/8");
  await editor.getByRole("button", { name: "Add rule" }).click();
  await chooseType(row(editor, 1), "HTTP");
  await peer(row(editor, 1), "Source").fill("0.0.0.0/0");
  await checkPage();
  await screenshot(page, "security-groups-edit-inbound");
  await editor.getByRole("button", { name: "Delete rule 1" }).click();
  await page.getByRole("button", { name: "Save rules" }).click();
  await page.getByText(`Saved the inbound rules of security group ${webGroupId}.`).waitFor();
  await page.getByRole("heading", { name: webGroupId, level: 1 }).waitFor();
  assert.deepEqual(await rules(webGroupId, false), [["tcp", "80", "80", "0.0.0.0/0", ""]]);
  await page
    .getByRole("table", { name: "Inbound rules" })
    .getByRole("row")
    .filter({ hasText: "HTTP" })
    .waitFor();
});

let otherGroupId = "";

test("edit outbound rules: a rule whose destination is another security group", async () => {
  otherGroupId =
    (await client.send(new CreateSecurityGroupCommand({ GroupName: "db", Description: "databases" })))
      .GroupId ?? "";
  await page.getByRole("tab", { name: "Outbound rules" }).click();
  await page.getByRole("button", { name: "Edit outbound rules" }).click();
  await page.getByRole("heading", { name: "Edit outbound rules", level: 1 }).waitFor();
  const editor = page.getByRole("group", { name: "Outbound rules" });
  await peer(row(editor, 0), "Destination").waitFor();
  await editor.getByRole("button", { name: "Add rule" }).click();
  const added = row(editor, 1);
  await chooseType(added, "Custom TCP");
  await field(added, "Port range").fill("5432");
  // The VPC's groups are suggested by id, with their names.
  await peer(added, "Destination").fill("sg-");
  await page.getByRole("option", { name: new RegExp(otherGroupId) }).click();
  assert.equal(await peer(added, "Destination").inputValue(), otherGroupId);
  await field(added, "Description").fill("to the database");
  await checkPage();
  await page.getByRole("button", { name: "Save rules" }).click();
  await page.getByText(`Saved the outbound rules of security group ${webGroupId}.`).waitFor();
  assert.deepEqual(await rules(webGroupId, true), [
    ["-1", "-1", "-1", "0.0.0.0/0", ""],
    ["tcp", "5432", "5432", otherGroupId, "to the database"],
  ]);
  await page.getByRole("tab", { name: "Outbound rules" }).click();
  await page
    .getByRole("table", { name: "Outbound rules" })
    .getByRole("link", { name: otherGroupId })
    .waitFor();
});

test("a rule the API refuses shows its error code and message; nothing changes", async () => {
  await page.getByRole("tab", { name: "Inbound rules" }).click();
  await page.getByRole("button", { name: "Edit inbound rules" }).click();
  const editor = page.getByRole("group", { name: "Inbound rules" });
  await peer(row(editor, 0), "Source").waitFor();
  await editor.getByRole("button", { name: "Add rule" }).click();
  const bad = row(editor, 1);
  await field(bad, "Port range").fill("70000");
  await peer(bad, "Source").fill("10.0.0.0/8");
  await page.getByRole("button", { name: "Save rules" }).click();
  const form = page.locator("form");
  await form
    .getByText(/InvalidParameterValue: .*70000/)
    .filter({ visible: true })
    .waitFor();
  // Fixed port, bad CIDR: the API's next refusal replaces the first.
  await field(bad, "Port range").fill("8080");
  await peer(bad, "Source").fill("10.0.0.0/33");
  await page.getByRole("button", { name: "Save rules" }).click();
  await form
    .getByText(/InvalidParameterValue: .*10\.0\.0\.0\/33/)
    .filter({ visible: true })
    .waitFor();
  assert.deepEqual(await rules(webGroupId, false), [["tcp", "80", "80", "0.0.0.0/0", ""]]);
  await checkPage(["400 AuthorizeSecurityGroupIngress"]);
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByRole("heading", { name: webGroupId, level: 1 }).waitFor();
});

/** Selects the group's row in the list and confirms "Delete security group". */
async function deleteThroughList(groupId: string): Promise<void> {
  await openList();
  await page.getByRole("table", { name: "Security groups" }).getByRole("link", { name: groupId }).waitFor();
  await page.getByRole("radio", { name: `Select ${groupId}` }).check();
  await page.getByRole("button", { name: "Delete security group" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete security group" });
  await dialog.getByText(groupId).waitFor();
  await checkPage();
  await dialog.getByRole("button", { name: "Delete", exact: true }).click();
  await dialog.waitFor({ state: "hidden" });
}

test("delete: a group another group's rule references is refused with the API's DependencyViolation", async () => {
  await deleteThroughList(otherGroupId);
  await page.getByText(new RegExp(`Could not delete security group ${otherGroupId}`)).waitFor();
  await page.getByText(/DependencyViolation: /).waitFor();
  assert.ok((await groupIds()).includes(otherGroupId));
  await checkPage(["400 DeleteSecurityGroup"]);
});

test("delete a group with confirmation", async () => {
  await deleteThroughList(webGroupId);
  await page.getByText(`Deleted security group ${webGroupId}.`).waitFor();
  assert.ok(!(await groupIds()).includes(webGroupId));
  await page.getByRole("table", { name: "Security groups" }).getByRole("link", { name: webGroupId }).waitFor({
    state: "detached",
  });
});

test("deleting the default group shows the API's CannotDelete", async () => {
  const groups = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  const dflt = groups.find((g) => g.GroupName === "default")?.GroupId ?? "";
  await deleteThroughList(dflt);
  await page.getByText(/CannotDelete: /).waitFor();
  assert.ok((await groupIds()).includes(dflt));
  await checkPage(["400 DeleteSecurityGroup"]);
});
