import assert from "node:assert/strict";
import { test } from "node:test";
import { actions } from "../ec2/actions/index.ts";
import {
  apiVersion,
  getOperation,
  getShape,
  hasOperation,
  operationNames,
  queryName,
  xmlName,
  xmlNamespace,
} from "./ec2-model.ts";

test("the model: version, namespace, operations", () => {
  assert.equal(apiVersion, "2016-11-15");
  assert.equal(xmlNamespace, "http://ec2.amazonaws.com/doc/2016-11-15/");
  assert.ok(hasOperation("CreateVolume") && hasOperation("DescribeImages"));
  assert.ok(!hasOperation("toString") && !hasOperation("LaunchRocket"));
  assert.ok(operationNames().length > 500);
  assert.deepEqual(getOperation("CreateVolume"), { input: "CreateVolumeRequest", output: "Volume" });
  assert.throws(() => getShape("NoSuchShape"));
});

test("every action Strata implements is in the model (else add it to model-patches.json)", () => {
  assert.deepEqual(
    Object.keys(actions).filter((name) => !hasOperation(name)),
    [],
  );
});

test("every shape an operation reaches is in the model", () => {
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const shape = getShape(name);
    if (shape.type === "structure") for (const ref of Object.values(shape.members)) visit(ref.shape);
    if (shape.type === "list") visit(shape.member.shape);
  };
  for (const op of operationNames()) {
    const { input, output } = getOperation(op);
    for (const shape of [input, output]) if (shape) visit(shape);
  }
  assert.ok(seen.size > 2000);
});

test("wire names: queryName, else capitalized locationName, else the member name", () => {
  assert.equal(
    queryName("Ipv6Addresses", { shape: "x", locationName: "ipv6AddressesSet", queryName: "Ipv6Addresses" }),
    "Ipv6Addresses",
  );
  assert.equal(queryName("DryRun", { shape: "Boolean", locationName: "dryRun" }), "DryRun");
  assert.equal(queryName("VolumeIds", { shape: "x", locationName: "VolumeId" }), "VolumeId");
  assert.equal(queryName("Size", { shape: "Integer" }), "Size");
  assert.equal(xmlName("OwnerId", { shape: "String", locationName: "imageOwnerId" }), "imageOwnerId");
  assert.equal(xmlName("Size", { shape: "Integer" }), "Size");
});
