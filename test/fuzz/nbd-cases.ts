// NBD server fuzzing at unit level: a connection per case with a generated handshake (client
// flags, options of every kind and length, truncated frames) and, once an export is chosen,
// requests (types, flags, offsets, lengths, payloads; one at a time or pipelined; cut short).
// nbd-model.ts runs a case and predicts every answer. Case i depends only on (seed, i).
import { encodeRequest, infoRequest, MemoryExport } from "../../src/compute/nbd/test-tools.ts";
import { Prng } from "./prng.ts";

export const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8 };
export const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, WRITE_ZEROES: 6 };
export const FLAG_FUA = 1;
export const FLAG_NO_HOLE = 2;
export const MAX_PAYLOAD = 32 * 1024 * 1024;
export const MAX_OPTION = 64 * 1024;
const MiB = 1024 * 1024;

export interface Exported {
  exp: MemoryExport;
  mirror: Buffer;
}

/** The exports a fuzz server serves, with the mirrors the model keeps. */
export function fuzzExports(): Map<string, Exported> {
  const make = (size: number, readOnly = false): Exported => {
    const fill = Buffer.alloc(size);
    for (let i = 0; i < size; i++) fill[i] = (i * 31 + 7) & 0xff;
    return { exp: new MemoryExport(size, { fill, readOnly }), mirror: Buffer.from(fill) };
  };
  return new Map([
    ["vol", make(MiB)],
    ["ro", make(64 * 1024, true)],
    ["odd", make(1000)],
    ["empty", make(0)],
  ]);
}

export type Step =
  | { kind: "flags"; value: number }
  | { kind: "option"; option: number; data: Buffer; magic: boolean; declared: number }
  | {
      kind: "request";
      type: number;
      flags: number;
      cookie: number;
      offset: bigint;
      length: number;
      payload?: number;
      wait: boolean;
      magic: boolean;
    }
  | { kind: "cut"; bytes: Buffer };

export interface NbdCase {
  index: number;
  steps: Step[];
}

const NAMES = ["vol", "vol", "ro", "odd", "empty", "nope", "", "vol\u0000", "VOL", "\u00e9t\u00e9"];

function optionStep(r: Prng): Step {
  const option = r.pick([
    OPT.GO,
    OPT.GO,
    OPT.INFO,
    OPT.EXPORT_NAME,
    OPT.LIST,
    OPT.ABORT,
    OPT.STARTTLS,
    OPT.STRUCTURED_REPLY,
    9,
    10,
    11,
    0,
    4,
    2 ** 32 - 1,
    r.u32(),
  ]);
  let data: Buffer;
  if (option === OPT.GO || option === OPT.INFO || option === 9 || option === 10) {
    const infos = Array.from({ length: r.int(0, 3) }, () => r.pick([0, 1, 2, 3, r.int(0, 65535)]));
    data = r.pick<() => Buffer>([
      () => infoRequest(r.pick(NAMES), infos),
      () => infoRequest(r.pick(NAMES), infos),
      () => Buffer.concat([infoRequest("vol", infos), Buffer.alloc(r.int(1, 3))]),
      () => infoRequest("vol", infos).subarray(0, r.int(0, 8)),
      () => r.bytes(r.int(0, 40)),
      () => {
        const d = infoRequest("vol", infos);
        d.writeUInt32BE(r.pick([4, 100, 4097, 2 ** 32 - 1]), 0);
        return d;
      },
      () => infoRequest("x".repeat(r.pick([4096, 4097])), []),
    ])();
  } else if (option === OPT.EXPORT_NAME) data = Buffer.from(r.pick(NAMES));
  else data = r.chance(0.5) ? Buffer.alloc(0) : r.bytes(r.int(1, 20));
  const declared = r.weighted({ exact: 90, short: 4, huge: 6 });
  return {
    kind: "option",
    option,
    data,
    magic: r.chance(0.97),
    declared:
      declared === "exact"
        ? data.length
        : declared === "short"
          ? data.length + r.int(1, 100)
          : r.pick([MAX_OPTION + 1, 2 ** 32 - 1]),
  };
}

function requestStep(r: Prng, cookie: number, size: number, wait: boolean): Step {
  const type = r.pick([
    CMD.READ,
    CMD.READ,
    CMD.WRITE,
    CMD.WRITE,
    CMD.FLUSH,
    CMD.TRIM,
    CMD.WRITE_ZEROES,
    CMD.WRITE_ZEROES,
    5,
    7,
    8,
    r.int(0, 65535),
  ]);
  const flags = r.weighted({ none: 70, fua: 10, noHole: 8, random: 12 });
  const offset = r.pick<() => bigint>([
    () => BigInt(r.int(0, Math.max(0, size - 1))),
    () => BigInt(r.int(0, Math.max(0, size - 1))),
    () => BigInt(Math.max(0, size - r.int(0, 600))),
    () => BigInt(size),
    () => BigInt(size + r.int(1, 4096)),
    () => 2n ** 63n,
    () => 2n ** 64n - 1n,
    () => 2n ** 53n + 1n,
  ])();
  const length = r.pick<() => number>([
    () => 0,
    () => r.int(1, 4096),
    () => r.int(1, 4096),
    () => r.int(4096, 256 * 1024),
    () => Math.max(0, size - Number(offset <= BigInt(size) ? offset : 0n)),
    () => MAX_PAYLOAD,
    () => MAX_PAYLOAD + 1,
    () => 2 ** 32 - 1,
  ])();
  // A WRITE's payload is sent in full when the server must read it (up to 2 MiB, to stay quick).
  const payload = type === CMD.WRITE && length <= 2 * MiB ? r.int(0, 255) : undefined;
  return {
    kind: "request",
    type,
    flags:
      flags === "none" ? 0 : flags === "fua" ? FLAG_FUA : flags === "noHole" ? FLAG_NO_HOLE : r.int(0, 65535),
    cookie,
    offset,
    length,
    payload,
    wait,
    magic: r.chance(0.98),
  };
}

export function generateNbdCase(seed: string, index: number): NbdCase {
  const r = Prng.forCase(seed, "nbd", index);
  const steps: Step[] = [];
  steps.push({ kind: "flags", value: r.pick([3, 3, 3, 1, 0, 2, r.u32()]) });
  const options = r.int(0, 4);
  for (let i = 0; i < options; i++) steps.push(optionStep(r));
  // Then mostly an export, and requests on it.
  if (r.chance(0.8)) {
    const name = r.pick(["vol", "vol", "vol", "ro", "odd", "empty"]);
    steps.push(
      r.chance(0.8)
        ? {
            kind: "option",
            option: OPT.GO,
            data: infoRequest(name),
            magic: true,
            declared: infoRequest(name).length,
          }
        : {
            kind: "option",
            option: OPT.EXPORT_NAME,
            data: Buffer.from(name),
            magic: true,
            declared: name.length,
          },
    );
    const size = name === "vol" ? MiB : name === "ro" ? 64 * 1024 : name === "odd" ? 1000 : 0;
    const pipelined = r.chance(0.4);
    const count = r.int(1, 12);
    for (let i = 0; i < count; i++) steps.push(requestStep(r, index * 100 + i + 1, size, !pipelined));
    if (r.chance(0.1))
      steps.push({
        kind: "request",
        type: CMD.DISC,
        flags: 0,
        cookie: 99,
        offset: 0n,
        length: 0,
        wait: false,
        magic: true,
      });
  }
  if (r.chance(0.15)) {
    const frame = r.chance(0.5)
      ? encodeRequest(CMD.READ, 1, 0, 512)
      : Buffer.concat([Buffer.from("IHAVEOPT"), Buffer.alloc(8, 0)]);
    steps.push({ kind: "cut", bytes: frame.subarray(0, r.int(1, frame.length - 1)) });
  }
  return { index, steps };
}

/** Runs a case against the server at `socket`; returns what went against the model. */
export function describeNbdCase(seed: string, c: NbdCase): string {
  const steps = c.steps.map((s) =>
    s.kind === "option"
      ? `option ${s.option} declared=${s.declared} magic=${s.magic} data=${s.data.subarray(0, 48).toString("hex")}${s.data.length > 48 ? "..." : ""}`
      : s.kind === "request"
        ? `request type=${s.type} flags=0x${s.flags.toString(16)} offset=${s.offset} length=${s.length} payload=${s.payload ?? "-"} wait=${s.wait} magic=${s.magic}`
        : s.kind === "flags"
          ? `client flags 0x${(s.value >>> 0).toString(16)}`
          : `cut after ${s.bytes.toString("hex")}`,
  );
  return `seed=${seed} index=${c.index}\n    ${steps.join("\n    ")}`;
}
