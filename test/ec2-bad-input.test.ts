// Malformed and hostile requests, each signed (or mis-signed) by hand and sent raw: every one gets
// the error EC2 gives, with its HTTP status, and no state changes for anyone.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  EnableImageDeregistrationProtectionCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
} from "@aws-sdk/client-ec2";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { assertStoreConsistent, type Daemon, startDaemon } from "./daemon.ts";
import { type Account, adminCredentials, type Credentials, createAccount, ec2 } from "./ec2-helpers.ts";
import { tempDir } from "./helpers.ts";

const dataDir = tempDir();
let daemon: Daemon;
let admin: Credentials;
let bob: Account;
let adminEc2: EC2Client;
let bobEc2: EC2Client;
const ids = {
  volume: "",
  snapshot: "",
  image: "",
  bobVolume: "",
  bobSnapshot: "",
  bobImage: "",
  bobPrivateImage: "",
};

interface SendOptions {
  credentials?: Credentials;
  region?: string;
  service?: string;
  date?: Date;
  tamper?: (req: { body: string; headers: Record<string, string> }) => void;
  unsigned?: boolean;
}

async function send(
  params: Record<string, string>,
  o: SendOptions = {},
): Promise<{ status: number; code: string; xml: string }> {
  const url = new URL(daemon.url);
  const body = new URLSearchParams({ Version: "2016-11-15", ...params }).toString();
  const request = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
    body,
  });
  const signer = new SignatureV4({
    credentials: o.credentials ?? admin,
    region: o.region ?? "us-east-1",
    service: o.service ?? "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  const signed = o.unsigned ? request : await signer.sign(request, { signingDate: o.date ?? new Date() });
  const wire = { body: signed.body as string, headers: { ...(signed.headers as Record<string, string>) } };
  o.tamper?.(wire);
  delete wire.headers.host;
  const res = await fetch(daemon.url, { method: "POST", headers: wire.headers, body: wire.body });
  const xml = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(xml)?.[1] ?? "", xml };
}

/** Everything every account can see, to prove a failed request changed nothing. */
async function world(): Promise<string> {
  const views = [];
  for (const client of [adminEc2, bobEc2]) {
    views.push(
      await client.send(new DescribeVolumesCommand({})),
      await client.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] })),
      await client.send(new DescribeImagesCommand({ Owners: ["self"] })),
      await client.send(new DescribeTagsCommand({})),
    );
  }
  return createHash("sha256")
    .update(JSON.stringify(views.map(({ $metadata: _, ...rest }) => rest)))
    .digest("hex");
}

before(async () => {
  daemon = await startDaemon(dataDir);
  admin = adminCredentials(dataDir);
  bob = await createAccount(dataDir, "bob");
  adminEc2 = ec2(daemon, admin);
  bobEc2 = ec2(daemon, bob);
  for (const [client, key] of [
    [adminEc2, ""],
    [bobEc2, "bob"],
  ] as const) {
    const v = await client.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: "us-east-1a" }));
    await daemon.client("us-east-1", key || "admin").write(v.VolumeId!, 0, Buffer.alloc(4096, 7));
    const s = await client.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId }));
    await waitUntilSnapshotCompleted(
      { client, maxWaitTime: 60, minDelay: 1 },
      { SnapshotIds: [s.SnapshotId!] },
    );
    const i = await client.send(
      new RegisterImageCommand({
        Name: `img-${key || "admin"}`,
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: s.SnapshotId } }],
      }),
    );
    Object.assign(
      ids,
      key
        ? { bobVolume: v.VolumeId, bobSnapshot: s.SnapshotId, bobImage: i.ImageId }
        : {
            volume: v.VolumeId,
            snapshot: s.SnapshotId,
            image: i.ImageId,
          },
    );
  }
  // Bob's image is shared with admin (visible, not owned); admin's image is protected.
  await bobEc2.send(
    new ModifyImageAttributeCommand({
      ImageId: ids.bobImage,
      LaunchPermission: {
        Add: [
          {
            UserId: (await adminEc2.send(new DescribeImagesCommand({ ImageIds: [ids.image] }))).Images![0]
              .OwnerId,
          },
        ],
      },
    }),
  );
  await adminEc2.send(new EnableImageDeregistrationProtectionCommand({ ImageId: ids.image }));
  // A real image of Bob's that is never shared: "another account's private image" must be an id
  // that exists (an id that never existed would pass even if access checks were missing).
  ids.bobPrivateImage = (
    await bobEc2.send(
      new RegisterImageCommand({
        Name: "img-bob-private",
        RootDeviceName: "/dev/xvda",
        BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { SnapshotId: ids.bobSnapshot } }],
      }),
    )
  ).ImageId!;
});

after(async () => {
  await daemon.kill("SIGTERM");
  assertStoreConsistent(dataDir);
});

test("at least 30 malformed or hostile requests get EC2's errors and change nothing", async () => {
  const vol = (extra: Record<string, string>) => ({
    Action: "CreateVolume",
    AvailabilityZone: "us-east-1a",
    Size: "1",
    ...extra,
  });
  const cases: [string, Record<string, string>, number, string, SendOptions?][] = [
    ["no action", {}, 400, "MissingAction"],
    ["unknown action", { Action: "LaunchRockets" }, 400, "InvalidAction"],
    [
      "EC2 action Strata lacks",
      { Action: "CreateNatGateway", SubnetId: "subnet-12345678" },
      400,
      "UnsupportedOperation",
    ],
    ["missing zone", { Action: "CreateVolume", Size: "1" }, 400, "MissingParameter"],
    ["size not a number", vol({ Size: "abc" }), 400, "InvalidParameterValue"],
    ["size zero", vol({ Size: "0" }), 400, "InvalidParameterValue"],
    ["size too large", vol({ Size: "16385" }), 400, "InvalidParameterValue"],
    ["size overflows", vol({ Size: "99999999999999" }), 400, "InvalidParameterValue"],
    ["zone of another region", vol({ AvailabilityZone: "eu-west-1a" }), 400, "InvalidParameterValue"],
    ["unknown volume type", vol({ VolumeType: "floppy" }), 400, "InvalidParameterValue"],
    ["unknown parameter", vol({ Colour: "blue" }), 400, "UnknownParameter"],
    ["unknown snapshot", vol({ SnapshotId: "snap-00000000000000000" }), 400, "InvalidSnapshot.NotFound"],
    ["another account's snapshot", vol({ SnapshotId: ids.bobSnapshot }), 400, "InvalidSnapshot.NotFound"],
    [
      "reserved tag key",
      vol({
        "TagSpecification.1.ResourceType": "volume",
        "TagSpecification.1.Tag.1.Key": "aws:x",
        "TagSpecification.1.Tag.1.Value": "1",
      }),
      400,
      "InvalidParameterValue",
    ],
    [
      "U+0000 in a tag value (XML cannot carry it, PostgreSQL cannot store it)",
      vol({
        "TagSpecification.1.ResourceType": "volume",
        "TagSpecification.1.Tag.1.Key": "k",
        "TagSpecification.1.Tag.1.Value": "nul\u0000here",
      }),
      400,
      "InvalidParameterValue",
    ],
    [
      "U+0000 in a description",
      { Action: "CreateSnapshot", VolumeId: ids.volume, Description: "nul\u0000here" },
      400,
      "InvalidParameterValue",
    ],
    [
      "tag spec for the wrong type",
      vol({
        "TagSpecification.1.ResourceType": "snapshot",
        "TagSpecification.1.Tag.1.Key": "k",
        "TagSpecification.1.Tag.1.Value": "v",
      }),
      400,
      "InvalidParameterValue",
    ],
    ["bad list index", { Action: "DescribeVolumes", "VolumeId.0": ids.volume }, 400, "InvalidParameterValue"],
    [
      "delete another account's volume",
      { Action: "DeleteVolume", VolumeId: ids.bobVolume },
      400,
      "InvalidVolume.NotFound",
    ],
    [
      "malformed volume id",
      { Action: "DeleteVolume", VolumeId: "volume-1" },
      400,
      "InvalidVolumeID.Malformed",
    ],
    [
      "snapshot another account's volume",
      { Action: "CreateSnapshot", VolumeId: ids.bobVolume },
      400,
      "InvalidVolume.NotFound",
    ],
    [
      "delete a snapshot an image uses",
      { Action: "DeleteSnapshot", SnapshotId: ids.snapshot },
      400,
      "InvalidSnapshot.InUse",
    ],
    [
      "delete another account's snapshot",
      { Action: "DeleteSnapshot", SnapshotId: ids.bobSnapshot },
      400,
      "InvalidSnapshot.NotFound",
    ],
    ["MaxResults below 5", { Action: "DescribeSnapshots", MaxResults: "2" }, 400, "InvalidParameterValue"],
    [
      "MaxResults with ids",
      { Action: "DescribeSnapshots", MaxResults: "5", "SnapshotId.1": ids.snapshot },
      400,
      "InvalidParameterCombination",
    ],
    [
      "forged NextToken",
      { Action: "DescribeSnapshots", NextToken: "not-a-token" },
      400,
      "InvalidParameterValue",
    ],
    [
      "unknown filter",
      { Action: "DescribeSnapshots", "Filter.1.Name": "colour", "Filter.1.Value.1": "red" },
      400,
      "InvalidParameterValue",
    ],
    [
      "malformed image id",
      { Action: "DescribeImages", "ImageId.1": "ami-xyz" },
      400,
      "InvalidAMIID.Malformed",
    ],
    [
      "another account's private image",
      { Action: "DescribeImages", "ImageId.1": ids.bobPrivateImage },
      400,
      "InvalidAMIID.NotFound",
    ],
    [
      "duplicate image name",
      {
        Action: "RegisterImage",
        Name: "img-admin",
        RootDeviceName: "/dev/xvda",
        "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
        "BlockDeviceMapping.1.Ebs.SnapshotId": ids.snapshot,
      },
      400,
      "InvalidAMIName.Duplicate",
    ],
    [
      "malformed image name",
      {
        Action: "RegisterImage",
        Name: "x",
        "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
        "BlockDeviceMapping.1.Ebs.SnapshotId": ids.snapshot,
      },
      400,
      "InvalidAMIName.Malformed",
    ],
    [
      "register another account's snapshot",
      {
        Action: "RegisterImage",
        Name: "stolen",
        "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
        "BlockDeviceMapping.1.Ebs.SnapshotId": ids.bobSnapshot,
      },
      400,
      "InvalidSnapshot.NotFound",
    ],
    [
      "volume smaller than snapshot",
      {
        Action: "RegisterImage",
        Name: "small",
        "BlockDeviceMapping.1.DeviceName": "/dev/xvda",
        "BlockDeviceMapping.1.Ebs.SnapshotId": ids.snapshot,
        "BlockDeviceMapping.1.Ebs.VolumeSize": "0",
      },
      400,
      "InvalidBlockDeviceMapping",
    ],
    [
      "modify a shared, not owned, image",
      { Action: "ModifyImageAttribute", ImageId: ids.bobImage, "LaunchPermission.Add.1.Group": "all" },
      401,
      "AuthFailure",
    ],
    [
      "launch permission for a bad account id",
      { Action: "ModifyImageAttribute", ImageId: ids.image, "LaunchPermission.Add.1.UserId": "123" },
      400,
      "InvalidAMIAttributeItemValue",
    ],
    [
      "copy a private image of another account",
      {
        Action: "CopyImage",
        SourceRegion: "us-east-1",
        SourceImageId: ids.bobPrivateImage,
        Name: "copy-1",
      },
      400,
      "InvalidAMIID.NotFound",
    ],
    [
      "copy from an unknown region",
      { Action: "CopyImage", SourceRegion: "mars-north-1", SourceImageId: ids.image, Name: "copy-1" },
      400,
      "InvalidRegion",
    ],
    [
      "copy snapshot without a source region",
      { Action: "CopySnapshot", SourceSnapshotId: ids.snapshot },
      400,
      "MissingParameter",
    ],
    [
      "deregister a protected image",
      { Action: "DeregisterImage", ImageId: ids.image },
      400,
      "InvalidParameterValue",
    ],
    [
      "deprecate in the past",
      { Action: "EnableImageDeprecation", ImageId: ids.image, DeprecateAt: "2001-01-01T00:00:00Z" },
      400,
      "InvalidParameterValue",
    ],
    [
      "too many tags",
      {
        Action: "CreateTags",
        "ResourceId.1": ids.volume,
        ...Object.fromEntries(
          Array.from({ length: 51 }, (_, i) => [
            [`Tag.${i + 1}.Key`, `k${i}`],
            [`Tag.${i + 1}.Value`, "v"],
          ]).flat(),
        ),
      },
      400,
      "TagLimitExceeded",
    ],
    [
      "tag an unknown kind of id",
      { Action: "CreateTags", "ResourceId.1": "acl-12345678", "Tag.1.Key": "k", "Tag.1.Value": "v" },
      400,
      "InvalidID",
    ],
    ["dry run succeeds but does nothing", { ...vol({}), DryRun: "true" }, 412, "DryRunOperation"],
    ["no signature at all", vol({}), 401, "AuthFailure", { unsigned: true }],
    [
      "unknown access key",
      vol({}),
      401,
      "AuthFailure",
      { credentials: { accessKeyId: "AKIAAAAAAAAAAAAAAAAA", secretAccessKey: "x".repeat(40) } },
    ],
    [
      "wrong secret",
      vol({}),
      403,
      "SignatureDoesNotMatch",
      { credentials: { accessKeyId: "", secretAccessKey: "wrong" } },
    ],
    [
      "body changed after signing",
      vol({}),
      403,
      "SignatureDoesNotMatch",
      {
        tamper: (r) => {
          r.body = r.body.replace("Size=1", "Size=2");
        },
      },
    ],
    [
      "replayed signature from 10 minutes ago",
      vol({}),
      400,
      "RequestExpired",
      { date: new Date(Date.now() - 10 * 60_000) },
    ],
    ["signed for another service", vol({}), 403, "SignatureDoesNotMatch", { service: "s3" }],
    ["region that is not configured", vol({}), 400, "InvalidRegion", { region: "ap-south-1" }],
    [
      "garbled Authorization header",
      vol({}),
      400,
      "IncompleteSignature",
      {
        tamper: (r) => {
          r.headers.authorization = "AWS4-HMAC-SHA256 nonsense";
        },
      },
    ],
  ];
  assert.ok(cases.length >= 30);
  // The other account's private image exists: its owner sees it.
  const own = await bobEc2.send(new DescribeImagesCommand({ ImageIds: [ids.bobPrivateImage] }));
  assert.equal(own.Images?.[0]?.ImageId, ids.bobPrivateImage);
  const before = await world();
  for (const [name, params, status, code, options] of cases) {
    const o = options ?? {};
    if (o.credentials && o.credentials.accessKeyId === "")
      o.credentials = { accessKeyId: admin.accessKeyId, secretAccessKey: "wrong" };
    const res = await send(params, o);
    assert.equal(res.code, code, `${name}: ${res.xml}`);
    assert.equal(res.status, status, name);
    assert.match(res.xml, /<RequestID>[0-9a-f-]{36}<\/RequestID>/, name);
  }
  const oversized = await send({ ...vol({}), Description: "x".repeat(2 * 1024 * 1024) });
  assert.equal(oversized.code, "InvalidParameterValue");
  assert.equal(await world(), before, "no request changed any account's state");
});

test("a presigned GET works, and an expired one is refused", async () => {
  const url = new URL(daemon.url);
  const signer = new SignatureV4({
    credentials: admin,
    region: "us-east-1",
    service: "ec2",
    sha256: Hash.bind(null, "sha256"),
  });
  const presign = (signingDate: Date, expiresIn: number) =>
    signer.presign(
      new HttpRequest({
        method: "GET",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        query: { Action: "DescribeRegions", Version: "2016-11-15" },
        headers: { host: url.host },
      }),
      { signingDate, expiresIn },
    );
  const toUrl = (r: { query?: unknown }) =>
    `${daemon.url}/?${new URLSearchParams(r.query as Record<string, string>)}`;
  const ok = await fetch(toUrl(await presign(new Date(), 300)));
  const okBody = await ok.text();
  assert.equal(ok.status, 200, okBody);
  assert.match(okBody, /<regionName>us-east-1<\/regionName>/);
  const expired = await fetch(toUrl(await presign(new Date(Date.now() - 3_600_000), 60)));
  assert.equal(expired.status, 400);
  assert.match(await expired.text(), /<Code>RequestExpired<\/Code>/);
});
