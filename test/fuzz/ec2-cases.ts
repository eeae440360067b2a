// Model-driven EC2 Query requests: a well-formed request for the action (a template, or one
// generated from the service model with plausible values), then zero to a few mutations, each
// breaking one thing: a value's type or range, encoding, presence, repetition, list indexes, list
// length, nesting, unknown members, the action or version; now and then the signature itself
// (auth-tamper.ts). Case i depends only on (seed, i).
import { actions } from "../../src/api/ec2/actions/index.ts";
import {
  getOperation,
  getShape,
  membersByQueryName,
  queryName,
  type ScalarShape,
  type Shape,
  type StructureShape,
} from "../../src/api/protocol/ec2-model.ts";
import { type AuthTamper, pickTamper } from "./auth-tamper.ts";
import { TEMPLATES } from "./ec2-templates.ts";
import {
  hostileFor,
  hostileString,
  type Param,
  plausible,
  strayId,
  typical,
  type Value,
} from "./ec2-values.ts";
import { Prng } from "./prng.ts";

export const API_VERSION = "2016-11-15";
export const ACTIONS = Object.keys(actions).sort();

export interface Ec2Case {
  index: number;
  action: string;
  /** Who signs: the pool's caller (a) or the other account (b). */
  caller: "a" | "b";
  region: "us-east-1" | "eu-west-1";
  /** POST form body, GET query string, or both at once. */
  transport: "post" | "get" | "mixed";
  /** Action and Version included: they are mutated like the rest. */
  params: Param[];
  /** What was done to the well-formed request, for the report. */
  mutations: string[];
  /** The signature damaged after signing, now and then. */
  auth?: AuthTamper;
}

export function generateEc2Case(seed: string, index: number): Ec2Case {
  const r = Prng.forCase(seed, "ec2", index);
  const action = r.pick(ACTIONS);
  const templates = TEMPLATES[action] ?? [];
  const fromTemplate = templates.length > 0 && r.chance(0.6);
  const body: Param[] = fromTemplate
    ? Object.entries(r.pick(templates)())
    : generateInput(r, getOperation(action).input);
  const params: Param[] = [["Action", action], ["Version", API_VERSION], ...body];
  const mutations: string[] = [fromTemplate ? "template" : "model"];
  const count = r.pick([0, 0, 1, 1, 1, 1, 2, 3]);
  for (let i = 0; i < count; i++) mutations.push(mutate(r, action, params));
  const c: Ec2Case = {
    index,
    action,
    caller: r.chance(0.85) ? "a" : "b",
    region: r.chance(0.85) ? "us-east-1" : "eu-west-1",
    transport: r.weighted({ post: 8, get: 1, mixed: 1 }),
    params,
    mutations,
  };
  if (r.chance(0.05)) c.auth = pickTamper(r);
  return c;
}

/** A request body from the model: required members always, others now and then. */
function generateInput(r: Prng, inputShape: string | undefined): Param[] {
  const out: Param[] = [];
  if (inputShape) generateValue(r, inputShape, "", "", 0, out);
  return out;
}

function generateValue(
  r: Prng,
  shapeName: string,
  member: string,
  name: string,
  depth: number,
  out: Param[],
) {
  const shape = getShape(shapeName);
  if (shape.type === "structure") {
    if (depth > 6) return;
    for (const [m, ref] of Object.entries(shape.members)) {
      const required = shape.required?.includes(m) ?? false;
      if (!required && !r.chance(depth === 0 ? 0.2 : 0.35)) continue;
      const wire = queryName(m, ref);
      generateValue(r, ref.shape, m, name ? `${name}.${wire}` : wire, depth + 1, out);
    }
    return;
  }
  if (shape.type === "list") {
    const n = r.int(1, 2);
    for (let i = 1; i <= n; i++) generateValue(r, shape.member.shape, member, `${name}.${i}`, depth + 1, out);
    return;
  }
  out.push([name, plausible(r, member, shape) ?? typical(r, shape)]);
}

type Resolved = { shape: Shape; member: string } | undefined;

/** The shape a wire name points at within the action's input (undefined if it names nothing). */
export function resolveWireName(action: string, wireName: string): Resolved {
  const input = getOperation(action).input;
  if (!input) return undefined;
  let shapeName = input;
  let member = "";
  for (const part of wireName.split(".")) {
    const shape = getShape(shapeName);
    if (shape.type === "structure") {
      const m = membersByQueryName(shapeName, shape as StructureShape).get(part);
      if (m === undefined) return undefined;
      member = m;
      shapeName = shape.members[m].shape;
    } else if (shape.type === "list") {
      if (!/^[1-9]\d{0,8}$/.test(part)) return undefined;
      shapeName = shape.member.shape;
    } else return undefined;
  }
  return { shape: getShape(shapeName), member };
}

/** Names of list members reachable from the top level, with their prefix already in the params. */
function listNames(action: string, params: Param[]): string[] {
  const names = new Set<string>();
  const input = getOperation(action).input;
  if (input) {
    const top = getShape(input) as StructureShape;
    for (const [m, ref] of Object.entries(top.members))
      if (getShape(ref.shape).type === "list") names.add(queryName(m, ref));
  }
  // Lists nested in what is already there (Filter.1.Value, TagSpecification.1.Tag, ...).
  for (const [name] of params) {
    const parts = name.split(".");
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join(".");
      if (resolveWireName(action, prefix)?.shape.type === "list") names.add(prefix);
    }
  }
  return [...names];
}

const BAD_INDEXES = [
  "0",
  "01",
  "-1",
  "1000000000",
  "4294967297",
  "",
  "a",
  " 1",
  "+1",
  "\u0661",
  "1e2",
  "0x1",
];

function mutate(r: Prng, action: string, params: Param[]): string {
  const bodyParams = () => params.slice(2);
  const pickIndex = () => 2 + r.int(0, Math.max(0, params.length - 3));
  const kind = r.weighted({
    swap: 20,
    value: 22,
    drop: 8,
    repeat: 6,
    unknown: 8,
    index: 7,
    gaps: 3,
    longList: 5,
    deep: 3,
    structAsScalar: 4,
    scalarAsStruct: 4,
    huge: 3,
    empty: 5,
    action: 4,
    rawName: 3,
    idSwap: 8,
  });
  const hasBody = params.length > 2;
  switch (kind) {
    case "swap": {
      // Another well-formed value for the member: gets past the parser into the handler's checks.
      if (!hasBody) return mutate(r, action, params);
      const i = pickIndex();
      const resolved = resolveWireName(action, params[i][0]);
      if (!resolved || resolved.shape.type === "structure" || resolved.shape.type === "list")
        return mutate(r, action, params);
      const shape = resolved.shape as ScalarShape;
      params[i] = [params[i][0], plausible(r, resolved.member, shape) ?? typical(r, shape)];
      return `swap ${params[i][0]}`;
    }
    case "value": {
      if (!hasBody) return mutate(r, action, params);
      const i = pickIndex();
      const resolved = resolveWireName(action, params[i][0]);
      params[i] = [
        params[i][0],
        resolved && resolved.shape.type !== "structure" && resolved.shape.type !== "list"
          ? hostileFor(r, resolved.shape as ScalarShape)
          : hostileString(r),
      ];
      return `value ${params[i][0]}`;
    }
    case "drop": {
      if (!hasBody) return mutate(r, action, params);
      const [name] = params.splice(pickIndex(), 1)[0];
      return `drop ${name}`;
    }
    case "repeat": {
      if (!hasBody) return mutate(r, action, params);
      const [name, value] = params[pickIndex()];
      params.push([name, r.chance(0.5) ? value : hostileString(r)]);
      return `repeat ${name}`;
    }
    case "unknown": {
      const existing = hasBody ? params[pickIndex()][0] : "Size";
      const parent = existing.includes(".") ? existing.slice(0, existing.lastIndexOf(".")) : "";
      const name = r.pick([
        "Bogus",
        parent ? `${parent}.Bogus` : "Bogus.1",
        existing.toLowerCase(),
        existing.toUpperCase(),
        `${existing}.`,
        `.${existing}`,
        ".",
        "",
        "..",
        "__proto__",
        "constructor",
        "hasOwnProperty",
        "Action.1",
        "S\u00efze",
        `${existing}\u0000`,
        "X-Amz-Bogus",
      ]);
      params.push([name, r.pick(["1", "x", ""])]);
      return `unknown ${JSON.stringify(name)}`;
    }
    case "index": {
      const candidates = bodyParams().filter(([n]) => /\.\d+(\.|$)/.test(n));
      if (candidates.length === 0) {
        params.push(["VolumeId.0", "vol-0123456789abcdef0"]);
        return "index VolumeId.0";
      }
      const target = r.pick(candidates);
      const parts = target[0].split(".");
      const positions = parts.flatMap((p, i) => (/^\d+$/.test(p) ? [i] : []));
      parts[r.pick(positions)] = r.pick(BAD_INDEXES);
      target[0] = parts.join(".");
      return `index ${target[0]}`;
    }
    case "gaps": {
      // Item n becomes item 3n-1: gaps, and a different order of arrival. Accepted by EC2.
      for (const p of params) p[0] = p[0].replace(/\.(\d+)(?=\.|$)/g, (_, n) => `.${Number(n) * 3 - 1}`);
      params.reverse();
      return "gaps";
    }
    case "longList": {
      const lists = listNames(action, params);
      if (lists.length === 0) return mutate(r, action, params);
      const list = r.pick(lists);
      const n = r.pick([100, 100, 1000, 1000, 5000]);
      const item = resolveWireName(action, `${list}.1`);
      for (let i = 1; i <= n; i++) {
        if (item?.shape.type === "structure") {
          const first = Object.entries((item.shape as StructureShape).members)[0];
          params.push([`${list}.${i}.${queryName(first[0], first[1])}`, `v${i}`]);
        } else {
          const scalar = item?.shape as ScalarShape | undefined;
          params.push([
            `${list}.${i}`,
            scalar && scalar.type !== undefined
              ? (plausible(r, item!.member, scalar) ?? typical(r, scalar))
              : `v${i}`,
          ]);
        }
      }
      return `longList ${list} x${n}`;
    }
    case "deep": {
      const base = hasBody ? params[pickIndex()][0] : "Filter";
      const depth = r.pick([10, 100, 5000]);
      const step = r.pick(["1", "Value.1", "a", "Tag.1"]);
      params.push([`${base}.${Array(depth).fill(step).join(".")}`, "deep"]);
      return `deep ${base} x${depth}`;
    }
    case "structAsScalar": {
      const input = getOperation(action).input;
      const members = input ? Object.entries((getShape(input) as StructureShape).members) : [];
      const composite = members.filter(([, ref]) => getShape(ref.shape).type !== "string");
      const nonScalar = composite.filter(([, ref]) =>
        ["list", "structure"].includes(getShape(ref.shape).type),
      );
      if (nonScalar.length === 0) return mutate(r, action, params);
      const [m, ref] = r.pick(nonScalar);
      const name = queryName(m, ref);
      params.push([name, r.pick(["x", "", "1", "[]"])]);
      return `structAsScalar ${name}`;
    }
    case "scalarAsStruct": {
      if (!hasBody) return mutate(r, action, params);
      const [name] = params[pickIndex()];
      params.push([`${name}.${r.pick(["1", "Value", "x"])}`, "1"]);
      return `scalarAsStruct ${name}`;
    }
    case "huge": {
      if (!hasBody) return mutate(r, action, params);
      const i = pickIndex();
      const size = r.pick([100_000, 100_000, 600_000, 1_100_000]);
      params[i] = [params[i][0], r.pick(["x", "\u00e9", "\u{1F600}"]).repeat(size / 4)];
      return `huge ${params[i][0]} ${size}`;
    }
    case "empty": {
      if (!hasBody) return mutate(r, action, params);
      const i = pickIndex();
      params[i] = [params[i][0], ""];
      return `empty ${params[i][0]}`;
    }
    case "action": {
      const how = r.pick([
        "noVersion",
        "badVersion",
        "secondAction",
        "lowercase",
        "unknown",
        "empty",
        "noAction",
      ]);
      if (how === "noVersion") params.splice(1, 1, ["X-Fuzz", "1"]);
      if (how === "badVersion") params[1] = ["Version", r.pick(["2099-01-01", "", "2016-11-15 ", "1"])];
      if (how === "secondAction") params.push(["Action", r.pick(ACTIONS)]);
      if (how === "lowercase") params[0] = ["Action", action.toLowerCase()];
      if (how === "unknown")
        params[0] = ["Action", r.pick(["CreateVpc", "LaunchRockets", "__proto__", "toString"])];
      if (how === "empty") params[0] = ["Action", ""];
      if (how === "noAction") params.splice(0, 1, ["X-Fuzz", "1"]);
      return `action ${how}`;
    }
    case "rawName": {
      const raw: Value = { raw: r.pick(["1", "%FF", "%", "%G0", "a%26b%3Dc"]) };
      params.push([r.pick(["%FF", "Size%", "%C0%AE", "Filter.1.Name%00", "A&B"]), raw]);
      return "rawName";
    }
    case "idSwap": {
      const ids = bodyParams().filter(
        ([, v]) => typeof v === "string" && /^(@\{|vol-|snap-|ami-|i-|key-)/.test(v),
      );
      if (ids.length === 0) return mutate(r, action, params);
      const target = r.pick(ids);
      const v = target[1] as string;
      target[1] = r.pick([
        () => strayId(r, v.startsWith("@{") ? v.slice(2, v.indexOf(".")).replace("keyid", "key") : "vol"),
        () =>
          r.pick(["@{vol.b.0}", "@{snap.b.0}", "@{ami.b.0}", "@{snap.e.0}", "@{ami.e.0}", "@{keyid.b.0}"]),
        () => `${v} `,
        () => v.toUpperCase(),
        () => `${v},${v}`,
      ])();
      return `idSwap ${target[0]}`;
    }
  }
}

/** The wire names, for the failure report: each id the pool gave stays symbolic (`@{vol.a.0}`). */
export function describeCase(seed: string, c: Ec2Case): string {
  const shown = c.params.map(([n, v]) => [
    n,
    typeof v === "string" && v.length > 200 ? `${v.slice(0, 40)}...(${v.length} chars)` : v,
  ]);
  const auth = c.auth ? ` auth=${c.auth.kind}:${JSON.stringify(c.auth.value.slice(0, 60))}` : "";
  return `seed=${seed} index=${c.index} action=${c.action} caller=${c.caller} region=${c.region} transport=${c.transport}${auth} mutations=${c.mutations.join("; ")}\n  params=${JSON.stringify(shown)}`;
}
