// Parses one EC2 Query parameter value into its model type, validating it as EC2 does.
import { StrataError } from "../../errors.ts";
import type { ScalarShape } from "./ec2-model.ts";

const integerLimits = {
  integer: [-(2 ** 31), 2 ** 31 - 1],
  long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
const specialDoubles = new Map([
  ["NaN", Number.NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
]);
const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const isoTimestamp =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?)?$/i;

function invalid(name: string, value: string, why = ""): StrataError {
  return new StrataError("InvalidParameterValue", `Invalid value '${value}' for ${name}${why}`);
}

/** `name` is the parameter's full wire name (`TagSpecification.1.Tag.1.Key`), used in errors. */
export function parseScalar(shape: ScalarShape, value: string, name: string): unknown {
  switch (shape.type) {
    case "string":
      // EC2 answers in XML, which cannot carry U+0000; PostgreSQL's text cannot store it either.
      if (value.includes("\u0000")) {
        throw new StrataError("InvalidParameterValue", `Invalid value for ${name}: U+0000 is not allowed`);
      }
      if (shape.enum && !shape.enum.includes(value)) {
        throw invalid(name, value, `: allowed values are ${shape.enum.join(", ")}`);
      }
      return value;
    case "integer":
    case "long": {
      if (!/^-?\d+$/.test(value)) throw invalid(name, value);
      const [low, high] = integerLimits[shape.type];
      // `+ 0` turns "-0" into 0.
      return inRange(
        Number(value) + 0,
        value,
        name,
        Math.max(low, shape.min ?? low),
        Math.min(high, shape.max ?? high),
      );
    }
    case "double":
    case "float": {
      const special = specialDoubles.get(value);
      if (special === undefined && !decimal.test(value)) throw invalid(name, value);
      const n = special ?? Number(value);
      if (Number.isNaN(n) && (shape.min !== undefined || shape.max !== undefined)) throw invalid(name, value);
      return inRange(n, value, name, shape.min ?? -Infinity, shape.max ?? Infinity);
    }
    case "boolean": {
      const lower = value.toLowerCase();
      if (lower !== "true" && lower !== "false") throw invalid(name, value);
      return lower === "true";
    }
    case "timestamp": {
      const date = parseTimestamp(value);
      if (!date) throw invalid(name, value, ": expected an ISO 8601 timestamp");
      return date;
    }
    case "blob":
      if (!base64.test(value)) throw invalid(name, value, ": expected base64");
      return new Uint8Array(Buffer.from(value, "base64"));
  }
}

function inRange(n: number, value: string, name: string, min: number, max: number): number {
  if (n < min) throw invalid(name, value, `: the value must be at least ${min}`);
  if (n > max) throw invalid(name, value, `: the value must be at most ${max}`);
  return n;
}

/** ISO 8601 / RFC 3339 date or date-time; no offset means UTC. Undefined when malformed. */
export function parseTimestamp(value: string): Date | undefined {
  const m = isoTimestamp.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", , sign, oh = "0", om = "0"] = m;
  const ms = Number(fraction.padEnd(3, "0").slice(0, 3));
  const local = new Date(
    Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms),
  );
  // Date.UTC rolls over (Feb 30 -> Mar 2); a real date reads back the same fields.
  const exact =
    local.getUTCFullYear() === Number(y) &&
    local.getUTCMonth() === Number(mo) - 1 &&
    local.getUTCDate() === Number(d) &&
    local.getUTCHours() === Number(h) &&
    local.getUTCMinutes() === Number(mi) &&
    local.getUTCSeconds() === Number(s);
  if (!exact || Number(oh) > 23 || Number(om) > 59) return undefined;
  const offset = (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return new Date(local.getTime() - offset);
}
