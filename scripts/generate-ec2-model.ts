// Generates src/api/protocol/ec2-model.generated.json, the compact EC2 service model that drives
// the Query parser and the XML serializer, from botocore's EC2 service-2.json (API 2016-11-15) as
// Debian packages it (python3-botocore, pinned below).
//
//   bin/node scripts/generate-ec2-model.ts            regenerate the committed file
//   bin/node scripts/generate-ec2-model.ts --check    exit 1 if the committed file is stale (CI)
//   ... --source path/to/service-2.json[.gz]          use that file instead of the Debian package
//
// Fixes to the model are data, not code: src/api/protocol/model-patches.json is a list of
// { "why", "path", "value" } or { "why", "path", "merge" } applied to the raw botocore model before
// compaction. `path` is a list of keys from the model's root (e.g. ["shapes", "Image", "members"]);
// `value` replaces what is there (null deletes it); `merge` adds keys to the object there. A patch
// that changes nothing, or merges a key the model already has, fails the run: patches that a newer
// model makes redundant are noticed and removed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { gunzipSync } from "node:zlib";

const debianPackage = "python3-botocore";
const debianVersion = "1.29.27+repack-1";
const modelDir = "usr/lib/python3/dist-packages/botocore/data/ec2/2016-11-15";
const protocolDir = join(import.meta.dirname, "../src/api/protocol");
const outputFile = join(protocolDir, "ec2-model.generated.json");
const patchesFile = join(protocolDir, "model-patches.json");
const biome = join(import.meta.dirname, "../node_modules/.bin/biome");
// Enums longer than this (only InstanceType, 574 values in 2022) go stale too fast to validate.
const maxEnumValues = 100;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type RawRef = { shape: string; locationName?: string; queryName?: string; flattened?: boolean };
type RawShape = {
  type: string;
  members?: Record<string, RawRef>;
  member?: RawRef;
  required?: string[];
  enum?: string[];
  min?: number;
  max?: number;
  timestampFormat?: string;
  flattened?: boolean;
};
type RawModel = {
  metadata: Record<string, string>;
  operations: Record<string, { input?: { shape: string }; output?: { shape: string } }>;
  shapes: Record<string, RawShape>;
};
type Patch = { why: string; path: string[]; value?: Json; merge?: Record<string, Json> };

const scalarTypes = new Set(["string", "integer", "long", "boolean", "double", "float", "timestamp", "blob"]);

function readServiceModel(dir: string): string {
  const file = join(dir, modelDir, "service-2.json");
  if (existsSync(file)) return readFileSync(file, "utf8");
  return gunzipSync(readFileSync(`${file}.gz`)).toString("utf8");
}

function sourceText(explicit: string | undefined): { text: string; source: string } {
  if (explicit) {
    const raw = readFileSync(explicit);
    return { text: (explicit.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8"), source: explicit };
  }
  const source = `Debian ${debianPackage} ${debianVersion}, /${modelDir}/service-2.json`;
  let installed = "";
  try {
    installed = execFileSync("dpkg-query", ["-W", `-f=\${Version}`, debianPackage], { encoding: "utf8" });
  } catch {}
  if (installed === debianVersion) return { text: readServiceModel("/"), source };
  const tmp = mkdtempSync(join(tmpdir(), "botocore-"));
  try {
    execFileSync("apt-get", ["download", `${debianPackage}=${debianVersion}`], { cwd: tmp, stdio: "pipe" });
    const deb = readdirSync(tmp).find((f) => f.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download produced no .deb in ${tmp}`);
    execFileSync("dpkg-deb", ["-x", join(tmp, deb), join(tmp, "root")]);
    return { text: readServiceModel(join(tmp, "root")), source };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function applyPatches(model: RawModel, patches: Patch[]): void {
  for (const { why, path, value, merge } of patches) {
    const parent = path.slice(0, -1).reduce<Record<string, Json>>(
      (node, key) => {
        node[key] ??= {};
        return node[key] as Record<string, Json>;
      },
      model as unknown as Record<string, Json>,
    );
    const key = path.at(-1)!;
    if (merge) {
      const target = (parent[key] ?? {}) as Record<string, Json>;
      const present = Object.keys(merge).filter((k) => Object.hasOwn(target, k));
      if (present.length) throw new Error(`patch adds ${present} which the model has now: ${why}`);
      parent[key] = { ...target, ...merge };
    } else {
      if (isDeepStrictEqual(parent[key] ?? null, value ?? null)) throw new Error(`patch changes nothing: ${why}`);
      if (value === null || value === undefined) delete parent[key];
      else parent[key] = value;
    }
  }
}

function compactRef(ref: RawRef): RawRef {
  const { shape, locationName, queryName, flattened } = ref;
  return { shape, locationName, queryName, flattened };
}

function compactShape(name: string, raw: RawShape): RawShape {
  const { type, min, max, timestampFormat, flattened } = raw;
  if (type === "structure") {
    const members = Object.fromEntries(Object.entries(raw.members ?? {}).map(([n, r]) => [n, compactRef(r)]));
    return { type, members, required: raw.required?.length ? [...raw.required].sort() : undefined };
  }
  if (type === "list") return { type, member: compactRef(raw.member!), min, max, flattened };
  // Maps would need Name.N.key/Name.N.value support in the parser; EC2 has none so far.
  if (!scalarTypes.has(type)) throw new Error(`shape ${name} has unsupported type ${type}`);
  const small = raw.enum && raw.enum.length <= maxEnumValues ? raw.enum : undefined;
  return { type, enum: small, min, max, timestampFormat };
}

function compact(model: RawModel, source: string): Json {
  const shapes: Record<string, RawShape> = {};
  const visit = (name: string): void => {
    if (Object.hasOwn(shapes, name)) return;
    const raw = Object.hasOwn(model.shapes, name) ? model.shapes[name] : undefined;
    if (!raw) throw new Error(`shape ${name} is referenced but not defined`);
    shapes[name] = compactShape(name, raw);
    for (const ref of [...Object.values(raw.members ?? {}), ...(raw.member ? [raw.member] : [])])
      visit(ref.shape);
  };
  const operations: Record<string, { input?: string; output?: string }> = {};
  for (const [name, op] of Object.entries(model.operations)) {
    operations[name] = { input: op.input?.shape, output: op.output?.shape };
    for (const shape of [op.input?.shape, op.output?.shape]) if (shape) visit(shape);
  }
  const { apiVersion, xmlNamespace } = model.metadata;
  return canonical({ metadata: { apiVersion, xmlNamespace, source }, operations, shapes });
}

// Sorted keys and no undefined values, so that the output is byte-for-byte reproducible.
function canonical(value: unknown): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value as Json;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return Object.fromEntries(
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, canonical(v)]),
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const sourceIndex = args.indexOf("--source");
  const { text, source } = sourceText(sourceIndex >= 0 ? args[sourceIndex + 1] : undefined);
  const model = JSON.parse(text) as RawModel;
  applyPatches(model, JSON.parse(readFileSync(patchesFile, "utf8")).patches);
  // Formatted by the project's pinned Biome, so that `biome check` accepts the file as written.
  const output = execFileSync(biome, ["format", `--stdin-file-path=${outputFile}`], {
    input: JSON.stringify(compact(model, source)),
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (!check) {
    writeFileSync(outputFile, output);
    console.log(`wrote ${outputFile} (${output.length} bytes) from ${source}`);
    return;
  }
  const committed = existsSync(outputFile) ? readFileSync(outputFile, "utf8") : "";
  if (committed !== output) {
    console.error(`${outputFile} is stale: run bin/node scripts/generate-ec2-model.ts`);
    process.exit(1);
  }
  console.log(`${outputFile} is up to date`);
}

main();
