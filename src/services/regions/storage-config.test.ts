import assert from "node:assert/strict";
import { test } from "node:test";
import { parseStorageConfig, storageFor } from "./storage-config.ts";

test("each region gets its own entry, else the default, with {region} filled in", () => {
  const config = parseStorageConfig(
    {
      default: {
        packs: { type: "s3", endpoint: "http://127.0.0.1:7480", bucket: "strata", prefix: "{region}/" },
        gc: { graceMs: 60000 },
      },
      regions: { "eu-west-1": { packs: { type: "local" }, packBytes: 33554432 } },
    },
    "test",
  );
  assert.deepEqual(storageFor(config, "us-east-1").packs, {
    type: "s3",
    endpoint: "http://127.0.0.1:7480",
    bucket: "strata",
    prefix: "us-east-1/",
    region: undefined,
    accessKeyId: undefined,
    secretAccessKey: undefined,
    forcePathStyle: undefined,
  });
  assert.equal(storageFor(config, "us-east-1").gc?.graceMs, 60000);
  assert.deepEqual(storageFor(config, "eu-west-1").packs, { type: "local" });
  assert.equal(storageFor(config, "eu-west-1").packBytes, 33554432);
  assert.deepEqual(storageFor(parseStorageConfig({}, "empty"), "us-east-1"), {});
  const pg = parseStorageConfig(
    {
      default: {
        metadata: { type: "postgres", url: "postgres://strata@127.0.0.1:5432/strata", schema: "r_{region}" },
      },
    },
    "pg",
  );
  assert.deepEqual(storageFor(pg, "eu-west-1").metadata, {
    type: "postgres",
    url: "postgres://strata@127.0.0.1:5432/strata",
    schema: "r_eu_west_1",
  });
});

test("a bad file names the field at fault", () => {
  const bad: [unknown, RegExp][] = [
    [[], /the file: must be an object/],
    [{ defaults: {} }, /unknown field 'defaults'/],
    [{ default: { packs: { type: "ceph" } } }, /default\.packs\.type: must be 'local' or 's3'/],
    [{ default: { packs: { type: "s3" } } }, /default\.packs\.bucket: must be a non-empty string/],
    [{ regions: { "us-east-1": { packBytes: 10 } } }, /regions\.us-east-1\.packBytes: must be an integer/],
    [
      { default: { packs: { type: "s3", bucket: "b", accessKeyId: "k" } } },
      /accessKeyId and secretAccessKey go together/,
    ],
    [{ default: { gc: { graceMs: -1 } } }, /default\.gc\.graceMs/],
    [{ default: { metadata: { type: "mysql" } } }, /default\.metadata\.type: must be 'sqlite' or 'postgres'/],
    [
      { default: { metadata: { type: "postgres", url: "http://x" } } },
      /default\.metadata\.url: must be a postgres/,
    ],
    [{ default: { metadata: { type: "postgres", url: "postgres://x/y", schema: "Bad Name" } } }, /schema/],
  ];
  for (const [json, message] of bad) assert.throws(() => parseStorageConfig(json, "f.json"), message);
});
