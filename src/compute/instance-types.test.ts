import assert from "node:assert/strict";
import { test } from "node:test";
import { INSTANCE_TYPES, instanceType, launchable } from "./instance-types.ts";

test("the catalogue: EC2's sizes for each family, consistent rows", () => {
  const sizes = (family: string) =>
    INSTANCE_TYPES.filter((t) => t.family === family).map((t) => t.name.split(".")[1]);
  assert.deepEqual(sizes("t2"), ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"]);
  assert.deepEqual(sizes("m5"), [
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "8xlarge",
    "12xlarge",
    "16xlarge",
    "24xlarge",
    "metal",
  ]);
  assert.deepEqual(sizes("c5"), [
    "large",
    "xlarge",
    "2xlarge",
    "4xlarge",
    "9xlarge",
    "12xlarge",
    "18xlarge",
    "24xlarge",
    "metal",
  ]);
  assert.ok(sizes("m7i").includes("metal-48xl") && sizes("r7i").includes("48xlarge"));
  assert.equal(new Set(INSTANCE_TYPES.map((t) => t.name)).size, INSTANCE_TYPES.length);
  for (const t of INSTANCE_TYPES) {
    assert.equal(t.cores * t.threadsPerCore, t.vcpus, t.name);
    assert.ok(t.memoryMiB >= 512 && t.memoryMiB % 512 === 0, t.name);
    assert.equal(t.bareMetal, t.hypervisor === undefined, t.name);
    assert.equal(t.hypervisor === "xen", t.family === "t2", t.name);
    assert.equal(launchable(t), t.architecture === "x86_64", t.name);
    assert.ok(t.bootModes.length > 0, t.name);
  }
  assert.deepEqual(
    [...new Set(INSTANCE_TYPES.filter((t) => !launchable(t)).map((t) => t.family))],
    ["t4g", "m6g", "m7g", "c6g", "c7g", "r6g", "r7g"],
  );
  const micro = instanceType("t2.micro")!;
  assert.deepEqual([micro.vcpus, micro.memoryMiB, micro.architectures], [1, 1024, ["i386", "x86_64"]]);
  assert.deepEqual(
    [instanceType("r7i.metal-48xl")?.vcpus, instanceType("r7i.metal-48xl")?.memoryMiB],
    [192, 1572864],
  );
  assert.equal(instanceType("t3.MICRO"), undefined);
});
