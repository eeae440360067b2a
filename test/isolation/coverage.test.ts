// The isolation tables cover every EC2 action Strata implements and every EBS direct operation:
// an action added without probes (or a justified exemption) fails here.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as EBS from "@aws-sdk/client-ebs";
import { actions } from "../../src/api/ec2/actions/index.ts";
import { ebsProbes } from "./ebs-table.ts";
import { KINDS } from "./probes.ts";
import { ec2Probes, exempt } from "./run-probes.ts";

test("every implemented EC2 action has probes or a justified exemption, and no entry is stale", () => {
  const implemented = Object.keys(actions).sort();
  const covered = [...Object.keys(ec2Probes), ...Object.keys(exempt)].sort();
  assert.deepEqual(
    implemented.filter((a) => !covered.includes(a)),
    [],
    "actions without an isolation entry",
  );
  assert.deepEqual(
    covered.filter((a) => !implemented.includes(a)),
    [],
    "entries for actions Strata does not implement",
  );
  for (const [action, probes] of Object.entries(ec2Probes)) {
    assert.ok(probes.length > 0, `${action} has an empty probe list`);
    assert.ok(!(action in exempt), `${action} is both probed and exempt`);
  }
  for (const [action, why] of Object.entries(exempt)) assert.ok(why.length > 20, `${action}: say why`);
});

test("every EBS direct operation (every command of @aws-sdk/client-ebs) has probes", () => {
  const operations = Object.keys(EBS)
    .filter((k) => /^[A-Z][A-Za-z]+Command$/.test(k))
    .map((k) => k.slice(0, -"Command".length))
    .sort();
  assert.equal(operations.length, 6, `the EBS API has six operations: ${operations.join(", ")}`);
  assert.deepEqual(Object.keys(ebsProbes).sort(), operations);
  for (const probes of Object.values(ebsProbes)) assert.ok(probes.length > 0);
});

test("every kind of id is probed by some action", () => {
  const all = [...Object.values(ec2Probes), ...Object.values(ebsProbes)].flat();
  for (const kind of KINDS)
    assert.ok(
      all.some((p) => p.kind === kind),
      `no probe takes a ${kind}`,
    );
});
