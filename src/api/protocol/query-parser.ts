// Parses EC2 Query requests (`Action=CreateVolume&Size=8&TagSpecification.1.Tag.1.Key=Name`) into
// plain objects keyed by the model's member names, the shape of the SDK v3 `...CommandInput` types.
import { StrataError } from "../../errors.ts";
import { PRESIGN_QUERY_PARAMS } from "../auth/parse-sigv4.ts";
import {
  getOperation,
  getShape,
  hasOperation,
  type ListShape,
  membersByQueryName,
  queryName,
  type StructureShape,
} from "./ec2-model.ts";
import { parseScalar } from "./query-scalars.ts";

export type Ec2Request = { action: string; version: string; input: Record<string, unknown> };

// One parameter; `path` is its name split on ".", read left to right as the shapes nest.
type Param = { name: string; path: string[]; value: string };

// Carried by every request besides the action's own members (SigV4 ones when presigned).
const commonParams = new Set(["Action", "Version", ...PRESIGN_QUERY_PARAMS, "X-Amz-Security-Token"]);

export function parseEc2Request(params: URLSearchParams): Ec2Request {
  const action = params.get("Action");
  if (!action) throw new StrataError("MissingAction", "The request must contain the parameter Action");
  if (!hasOperation(action)) {
    throw new StrataError("InvalidAction", `The action ${action} is not valid for this web service.`);
  }
  const version = params.get("Version");
  if (!version) throw new StrataError("MissingParameter", "The request must contain the parameter Version");
  return { action, version, input: parseInput(action, params) };
}

export function parseInput(operationName: string, params: URLSearchParams): Record<string, unknown> {
  const { input } = getOperation(operationName);
  const all: Param[] = [];
  for (const [name, value] of params)
    if (!commonParams.has(name)) all.push({ name, path: name.split("."), value });
  if (!input) {
    if (all.length > 0) throw unknown(all[0].name);
    return {};
  }
  return parseStructure(input, getShape(input) as StructureShape, all, 0, "");
}

function parseValue(shapeName: string, params: Param[], depth: number, name: string): unknown {
  const shape = getShape(shapeName);
  const here = params.filter((p) => p.path.length === depth);
  const below = params.filter((p) => p.path.length > depth);
  if (shape.type === "structure" || shape.type === "list") {
    // `Name=` (empty) stands for an empty list or structure; anything else needs `Name.x`.
    const bad = here.find((p) => p.value !== "");
    const expected = shape.type === "list" ? `${name}.1, ${name}.2, ...` : `${name}.<member>`;
    if (bad) throw invalid(name, bad.value, `: expected ${expected}`);
    return shape.type === "list"
      ? parseList(shape, below, depth, name)
      : parseStructure(shapeName, shape, below, depth, name);
  }
  if (below.length > 0) throw unknown(below[0].name);
  if (here.length > 1) {
    throw new StrataError("InvalidParameterValue", `The parameter ${name} is specified more than once`);
  }
  return parseScalar(shape, here[0].value, name);
}

function parseStructure(
  shapeName: string,
  shape: StructureShape,
  params: Param[],
  depth: number,
  prefix: string,
): Record<string, unknown> {
  const members = membersByQueryName(shapeName, shape);
  const result: Record<string, unknown> = {};
  for (const [wire, group] of groupBy(params, depth)) {
    const name = prefix ? `${prefix}.${wire}` : wire;
    const member = members.get(wire);
    if (member === undefined) throw unknown(name);
    if (emptyMeansAbsent(shapeName, shape, member, group, depth)) continue;
    result[member] = parseValue(shape.members[member].shape, group, depth + 1, name);
  }
  for (const member of shape.required ?? []) {
    if (result[member] !== undefined) continue;
    const wire = queryName(member, shape.members[member]);
    const name = prefix ? `${prefix}.${wire}` : wire;
    throw new StrataError("MissingParameter", `The request must contain the parameter ${name}`);
  }
  return result;
}

// EC2 takes `Member=` (empty) for a string member as if it were absent: SDKs send the empty strings
// they were given (Packer's VpcId="", SubnetId="", Placement.AvailabilityZone="", KmsKeyId="").
// An empty number, boolean, timestamp or blob stays a malformed value. These string members are
// the exceptions, where EC2 gives the empty string a meaning of its own.
const EMPTY_IS_A_VALUE = new Set([
  // An empty tag value is a value (CreateTags), and DeleteTags with Value="" deletes only a tag
  // whose value is empty; an empty key gets the tag rules' error, not MissingParameter.
  "Tag.Key",
  "Tag.Value",
  // NoDevice="" suppresses the device (EC2's documented form).
  "BlockDeviceMapping.NoDevice",
  "InstanceBlockDeviceMappingSpecification.NoDevice",
  // A description may be set to, or copied as, the empty string.
  "*.Description",
  // The value being set by Modify*Attribute: "" clears a description or the user data.
  "AttributeValue.Value",
  "BlobAttributeValue.Value",
  "ModifyImageAttributeRequest.Value",
  "ModifyInstanceAttributeRequest.Value",
]);

function emptyMeansAbsent(
  shapeName: string,
  shape: StructureShape,
  member: string,
  group: Param[],
  depth: number,
): boolean {
  if (group.length !== 1 || group[0].path.length !== depth + 1 || group[0].value !== "") return false;
  if (getShape(shape.members[member].shape).type !== "string") return false;
  return !EMPTY_IS_A_VALUE.has(`${shapeName}.${member}`) && !EMPTY_IS_A_VALUE.has(`*.${member}`);
}

function parseList(shape: ListShape, params: Param[], depth: number, prefix: string): unknown[] {
  const items: [number, unknown][] = [];
  for (const [index, group] of groupBy(params, depth)) {
    // 1-based, no leading zeros (so `Id.1` and `Id.01` cannot both be item one).
    if (!/^[1-9]\d{0,8}$/.test(index)) {
      throw invalid(`${prefix}.${index}`, index, `: list indexes are 1, 2, 3, ...`);
    }
    items.push([Number(index), parseValue(shape.member.shape, group, depth + 1, `${prefix}.${index}`)]);
  }
  // Gaps (`Id.1`, `Id.3`) close up, in index order.
  return items.sort(([a], [b]) => a - b).map(([, item]) => item);
}

function groupBy(params: Param[], depth: number): Map<string, Param[]> {
  const groups = new Map<string, Param[]>();
  for (const p of params) {
    const key = p.path[depth];
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  return groups;
}

function unknown(name: string): StrataError {
  return new StrataError("UnknownParameter", `The parameter ${name} is not recognized`);
}

function invalid(name: string, value: string, why: string): StrataError {
  return new StrataError("InvalidParameterValue", `Invalid value '${value}' for ${name}${why}`);
}
