import assert from "node:assert/strict";
import { test } from "node:test";
import { isStrataError } from "../../errors.ts";
import { parseEc2Request, parseInput } from "./query-parser.ts";

function parse(action: string, query: string): Record<string, unknown> {
  return parseInput(action, new URLSearchParams(query));
}

function rejects(action: string, query: string, code: string, message: string | RegExp): void {
  assert.throws(
    () => parse(action, query),
    (e) =>
      isStrataError(e) &&
      e.code === code &&
      (typeof message === "string" ? e.message === message : message.test(e.message)),
  );
}

test("a request names its action and version; common parameters are not members", () => {
  const params = new URLSearchParams(
    "Action=DeleteVolume&Version=2016-11-15&VolumeId=vol-1&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
      "&X-Amz-Credential=a&X-Amz-Date=b&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=c&X-Amz-Security-Token=d",
  );
  assert.deepEqual(parseEc2Request(params), {
    action: "DeleteVolume",
    version: "2016-11-15",
    input: { VolumeId: "vol-1" },
  });
});

test("missing or unknown action, missing version", () => {
  const attempt = (query: string) => () => parseEc2Request(new URLSearchParams(query));
  assert.throws(attempt("Version=2016-11-15"), (e) => isStrataError(e, "MissingAction"));
  assert.throws(
    attempt("Action=LaunchRocket&Version=2016-11-15"),
    (e) =>
      isStrataError(e, "InvalidAction") &&
      e.message === "The action LaunchRocket is not valid for this web service.",
  );
  assert.throws(
    attempt("Action=DeleteVolume&VolumeId=v"),
    (e) =>
      isStrataError(e, "MissingParameter") && e.message === "The request must contain the parameter Version",
  );
});

test("scalars are typed: integers, booleans (any case), timestamps, blobs", () => {
  assert.deepEqual(parse("CreateVolume", "AvailabilityZone=a&Size=-0&Encrypted=TRUE&DryRun=false"), {
    AvailabilityZone: "a",
    Size: 0,
    Encrypted: true,
    DryRun: false,
  });
  assert.deepEqual(parse("EnableImageDeprecation", "ImageId=a&DeprecateAt=2030-01-02T04:04:05.5%2B01:00"), {
    ImageId: "a",
    DeprecateAt: new Date("2030-01-02T03:04:05.500Z"),
  });
  assert.deepEqual(
    parse("ImportKeyPair", "KeyName=k&PublicKeyMaterial=AAH/").PublicKeyMaterial,
    new Uint8Array([0, 1, 255]),
  );
});

test("wrong types are InvalidParameterValue naming the parameter and value", () => {
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&Size=abc",
    "InvalidParameterValue",
    "Invalid value 'abc' for Size",
  );
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&Size=1.5",
    "InvalidParameterValue",
    "Invalid value '1.5' for Size",
  );
  rejects("CreateVolume", "AvailabilityZone=a&Size=", "InvalidParameterValue", "Invalid value '' for Size");
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&Encrypted=yes",
    "InvalidParameterValue",
    "Invalid value 'yes' for Encrypted",
  );
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&VolumeType=gp9",
    "InvalidParameterValue",
    /^Invalid value 'gp9' for VolumeType: allowed/,
  );
  rejects(
    "EnableImageDeprecation",
    "ImageId=a&DeprecateAt=2030-02-30",
    "InvalidParameterValue",
    /'2030-02-30' for DeprecateAt/,
  );
  rejects(
    "EnableImageDeprecation",
    "ImageId=a&DeprecateAt=tomorrow",
    "InvalidParameterValue",
    /'tomorrow' for DeprecateAt/,
  );
  rejects(
    "ImportKeyPair",
    "KeyName=k&PublicKeyMaterial=AAH",
    "InvalidParameterValue",
    /'AAH' for PublicKeyMaterial/,
  );
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&TagSpecification.1.ResourceType=rocket",
    "InvalidParameterValue",
    /'rocket' for TagSpecification\.1\.ResourceType/,
  );
});

test("integers out of range", () => {
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&Size=2147483648",
    "InvalidParameterValue",
    /must be at most 2147483647/,
  );
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&Size=-2147483649",
    "InvalidParameterValue",
    /must be at least -2147483648/,
  );
  rejects(
    "DescribeStoreImageTasks",
    "MaxResults=0",
    "InvalidParameterValue",
    "Invalid value '0' for MaxResults: the value must be at least 1",
  );
  rejects("DescribeStoreImageTasks", "MaxResults=201", "InvalidParameterValue", /must be at most 200/);
  assert.deepEqual(parse("DescribeStoreImageTasks", "MaxResults=200"), { MaxResults: 200 });
});

test("missing required members, at the top and nested", () => {
  rejects(
    "DeleteVolume",
    "DryRun=true",
    "MissingParameter",
    "The request must contain the parameter VolumeId",
  );
  rejects(
    "RunInstances",
    "MinCount=1&MaxCount=1&Monitoring=",
    "MissingParameter",
    "The request must contain the parameter Monitoring.Enabled",
  );
});

test("unknown parameters", () => {
  rejects("DeleteVolume", "VolumeId=v&Foo=1", "UnknownParameter", "The parameter Foo is not recognized");
  rejects(
    "DescribeVolumes",
    "Filter.1.Nme=x",
    "UnknownParameter",
    "The parameter Filter.1.Nme is not recognized",
  );
  rejects(
    "CreateVolume",
    "AvailabilityZone=a&Size.1=8",
    "UnknownParameter",
    "The parameter Size.1 is not recognized",
  );
  // Member names are not wire names: the list is `VolumeId.N`, not `VolumeIds.N`.
  rejects(
    "DescribeVolumes",
    "VolumeIds.1=v",
    "UnknownParameter",
    "The parameter VolumeIds is not recognized",
  );
});

test("lists are Name.1, Name.2, ...; malformed indexes are rejected", () => {
  assert.deepEqual(parse("DescribeVolumes", "VolumeId.2=b&VolumeId.1=a&VolumeId.10=c"), {
    VolumeIds: ["a", "b", "c"],
  });
  assert.deepEqual(parse("DescribeVolumes", "VolumeId.7=b&VolumeId.3=a"), { VolumeIds: ["a", "b"] });
  assert.deepEqual(
    parse("DescribeVolumes", "Filter.1.Name=status&Filter.1.Value.1=available&Filter.1.Value.2=in-use"),
    {
      Filters: [{ Name: "status", Values: ["available", "in-use"] }],
    },
  );
  assert.deepEqual(parse("DescribeVolumes", "VolumeId="), { VolumeIds: [] });
  for (const index of ["0", "x", "01", "", "-1", "1e3"]) {
    rejects("DescribeVolumes", `VolumeId.${index}=v`, "InvalidParameterValue", /list indexes are 1, 2, 3/);
  }
  rejects(
    "DescribeVolumes",
    "VolumeId.1.5=v",
    "UnknownParameter",
    "The parameter VolumeId.1.5 is not recognized",
  );
  rejects("DescribeVolumes", "VolumeId=vol-1", "InvalidParameterValue", /expected VolumeId\.1, VolumeId\.2/);
});

test("a parameter given twice is rejected", () => {
  rejects(
    "DeleteVolume",
    "VolumeId=a&VolumeId=b",
    "InvalidParameterValue",
    "The parameter VolumeId is specified more than once",
  );
});

test("an empty string member is absent (as Packer sends them), but where EC2 gives it a meaning", () => {
  // Packer's RunInstances: VpcId/SubnetId/zone/KMS key all "".
  assert.deepEqual(
    parse(
      "RunInstances",
      "ImageId=ami-1&MinCount=1&MaxCount=1&SubnetId=&KeyName=&Placement.AvailabilityZone=" +
        "&BlockDeviceMapping.1.DeviceName=/dev/xvda&BlockDeviceMapping.1.Ebs.KmsKeyId=" +
        "&BlockDeviceMapping.1.Ebs.VolumeType=&BlockDeviceMapping.1.Ebs.VolumeSize=8",
    ),
    {
      ImageId: "ami-1",
      MinCount: 1,
      MaxCount: 1,
      Placement: {},
      BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 8 } }],
    },
  );
  assert.deepEqual(parse("CreateVolume", "AvailabilityZone=a&KmsKeyId=&SnapshotId="), {
    AvailabilityZone: "a",
  });
  // A required member given as "" is missing.
  rejects("CreateVolume", "AvailabilityZone=", "MissingParameter", /parameter AvailabilityZone$/);
  // Kept: tag keys and values, NoDevice, descriptions, the values Modify*Attribute sets, list items.
  assert.deepEqual(parse("CreateTags", "ResourceId.1=vol-1&Tag.1.Key=&Tag.1.Value="), {
    Resources: ["vol-1"],
    Tags: [{ Key: "", Value: "" }],
  });
  assert.deepEqual(
    parse(
      "RegisterImage",
      "Name=n&Description=&BlockDeviceMapping.1.DeviceName=/dev/sdb&BlockDeviceMapping.1.NoDevice=",
    ),
    { Name: "n", Description: "", BlockDeviceMappings: [{ DeviceName: "/dev/sdb", NoDevice: "" }] },
  );
  assert.deepEqual(parse("ModifyImageAttribute", "ImageId=ami-1&Description.Value="), {
    ImageId: "ami-1",
    Description: { Value: "" },
  });
  assert.deepEqual(parse("ModifyInstanceAttribute", "InstanceId=i-1&Attribute=userData&Value="), {
    InstanceId: "i-1",
    Attribute: "userData",
    Value: "",
  });
  assert.deepEqual(parse("DescribeVolumes", "Filter.1.Name=tag:a&Filter.1.Value.1="), {
    Filters: [{ Name: "tag:a", Values: [""] }],
  });
  // An empty number or boolean is still malformed.
  rejects(
    "RunInstances",
    "ImageId=a&MinCount=&MaxCount=1",
    "InvalidParameterValue",
    "Invalid value '' for MinCount",
  );
});
