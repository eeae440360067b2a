// Every EC2 action Strata implements is called by some test against a real daemon: its SDK
// command (`XCommand`) or its aws CLI name (`x-y`) appears in a file under test/. Bare action
// names do not count: they appear in raw requests built to be refused (ec2-bad-input) and in the
// protocol's unit tests (src/**/*.test.ts), which never reach a handler's success path.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { test } from "node:test";
import { actions } from "../src/api/ec2/actions/index.ts";

// Actions no test can call, each with the reason. Empty today: keep it that way if you can.
const NOT_EXERCISED: Record<string, string> = {};

function testSources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && basename(f) !== basename(import.meta.filename))
    .map((f) => readFileSync(join(dir, f), "utf8"));
}

const cliName = (action: string) => action.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

test("every implemented EC2 action is called by a test (SDK command or aws CLI name)", () => {
  const sources = testSources(import.meta.dirname).join("\n");
  const names = Object.keys(actions).sort();
  assert.ok(names.length >= 40, `the actions index lists ${names.length} actions`);
  const missing = names.filter((action) => {
    if (action in NOT_EXERCISED) return false;
    const sdk = new RegExp(`\\b${action}Command\\b`);
    const cli = new RegExp(`(?<![\\w-])${cliName(action)}(?![\\w-])`);
    return !sdk.test(sources) && !cli.test(sources);
  });
  assert.deepEqual(missing, [], "actions no test calls (add a test, or an allow-list entry saying why)");
  const stale = Object.keys(NOT_EXERCISED).filter((a) => !names.includes(a));
  assert.deepEqual(stale, [], "allow-listed actions that are no longer implemented");
});

test("the CLI names are derived as the aws CLI spells them", () => {
  assert.equal(cliName("DescribeAvailabilityZones"), "describe-availability-zones");
  assert.equal(cliName("GetConsoleOutput"), "get-console-output");
  assert.equal(cliName("CreateSnapshots"), "create-snapshots");
});
