import assert from "node:assert/strict";
import { test } from "node:test";
import { XMLValidator } from "fast-xml-parser";
import { serializeEc2Error, serializeEc2Response } from "./xml-serializer.ts";

const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';

test("a response: namespace, requestId first, locationNames, item lists, empty lists, no undefined or null", () => {
  const xml = serializeEc2Response(
    "DescribeVolumes",
    {
      Volumes: [
        {
          VolumeId: "vol-1",
          Size: 8,
          Encrypted: false,
          CreateTime: new Date("2026-11-22T04:48:35.463Z"),
          KmsKeyId: undefined,
          OutpostArn: null,
          Attachments: [],
          Tags: [{ Key: "Name", Value: "" }],
        },
      ],
      NotAMember: "ignored",
    },
    "req-1",
  );
  assert.equal(
    xml,
    `${head}<DescribeVolumesResponse ${ns}><requestId>req-1</requestId><volumeSet><item><attachmentSet/>` +
      "<createTime>2026-11-22T04:48:35.463Z</createTime><encrypted>false</encrypted><size>8</size>" +
      "<tagSet><item><key>Name</key><value/></item></tagSet><volumeId>vol-1</volumeId></item></volumeSet>" +
      "</DescribeVolumesResponse>",
  );
});

test("text is escaped; characters XML cannot carry become U+FFFD; CR survives as a reference", () => {
  const xml = serializeEc2Response(
    "CopyImage",
    { ImageId: `a <b> & "c" 'd' \r\n\t\u0000\u0008\u001f\uFFFE\ud800 é 🎉` },
    "<&>",
  );
  assert.equal(
    xml,
    `${head}<CopyImageResponse ${ns}><requestId>&lt;&amp;&gt;</requestId>` +
      `<imageId>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#13;\n\t\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD é 🎉</imageId></CopyImageResponse>`,
  );
  assert.equal(XMLValidator.validate(xml), true);
});

test("a description with <&> in a nested structure", () => {
  const xml = serializeEc2Response(
    "DescribeSnapshots",
    { Snapshots: [{ Description: "backup <daily> & more" }] },
    "r",
  );
  assert.match(xml, /<description>backup &lt;daily&gt; &amp; more<\/description>/);
});

test("actions without an output shape answer <return>true</return>", () => {
  assert.equal(
    serializeEc2Response("DeleteVolume", undefined, "r"),
    `${head}<DeleteVolumeResponse ${ns}><requestId>r</requestId><return>true</return></DeleteVolumeResponse>`,
  );
});

test("blobs are base64; numbers keep their value", () => {
  const xml = serializeEc2Response(
    "DescribeInstanceTypes",
    { InstanceTypes: [{ EbsInfo: { EbsOptimizedInfo: { BaselineThroughputInMBps: 0.5, MaximumIops: 0 } } }] },
    "r",
  );
  assert.match(xml, /<baselineThroughputInMBps>0.5<\/baselineThroughputInMBps><maximumIops>0<\/maximumIops>/);
  const bundle = serializeEc2Response(
    "BundleInstance",
    { BundleTask: { Storage: { S3: { UploadPolicy: new Uint8Array([0, 1, 255]) } } } },
    "r",
  );
  assert.match(bundle, /<uploadPolicy>AAH\/<\/uploadPolicy>/);
});

test("a value of the wrong type is a bug in the handler, reported with its path", () => {
  assert.throws(
    () => serializeEc2Response("DescribeVolumes", { Volumes: [{ Size: "8" }] }, "r"),
    /DescribeVolumes\.volumeSet\.1\.size: expected a number, got string/,
  );
  assert.throws(() => serializeEc2Response("DescribeVolumes", { Volumes: {} }, "r"), /expected an array/);
  assert.throws(() => serializeEc2Response("CreateVolume", { CreateTime: "soon" }, "r"), /expected a Date/);
});

test("an error", () => {
  assert.equal(
    serializeEc2Error("InvalidParameterValue", "Invalid value 'a<b' for Size", "req-2"),
    `${head}<Response><Errors><Error><Code>InvalidParameterValue</Code>` +
      "<Message>Invalid value &apos;a&lt;b&apos; for Size</Message></Error></Errors><RequestID>req-2</RequestID></Response>",
  );
});
