// NBD server fuzzing at unit level: a connection per case, with a generated handshake (client
// flags, options of every kind and length, truncated frames) and, once an export is chosen,
// requests (types, flags, offsets, lengths, payloads; one at a time or pipelined; cut short).
// Each step's answer is predicted by a reference model of the protocol (proto.md) and in-memory
// mirrors of the exports, checked byte for byte. Case i depends only on (seed, i).
import { createHash } from "node:crypto";
import { encodeRequest, infoRequest, MemoryExport, RawClient } from "../../src/compute/nbd/test-tools.ts";
import { Prng } from "./prng.ts";

const OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8 };
const REP = { ACK: 1, INFO: 3, ERR_UNSUP: 2 ** 31 + 1, ERR_INVALID: 2 ** 31 + 3, ERR_UNKNOWN: 2 ** 31 + 6 };
const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, WRITE_ZEROES: 6 };
const FLAG_FUA = 1;
const FLAG_NO_HOLE = 2;
const EPERM = 1;
const EINVAL = 22;
const ENOSPC = 28;
const MAX_PAYLOAD = 32 * 1024 * 1024;
const MAX_OPTION = 64 * 1024;
const MiB = 1024 * 1024;

/** HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_WRITE_ZEROES | CAN_MULTI_CONN | SEND_TRIM, + READ_ONLY. */
const transmissionFlags = (readOnly: boolean) => 0x1 | 0x4 | 0x8 | 0x40 | 0x100 | 0x20 | (readOnly ? 0x2 : 0);

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

type Step =
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
export async function runNbdCase(
  socket: string,
  exports: Map<string, Exported>,
  c: NbdCase,
): Promise<string[]> {
  const failures: string[] = [];
  const client = await RawClient.connect(socket);
  try {
    await runSteps(client, exports, c, failures);
  } catch (e) {
    failures.push(`client: ${(e as Error).message}`);
  } finally {
    client.socket.destroy();
  }
  for (const [name, { exp, mirror }] of exports)
    if (!exp.data.equals(mirror))
      failures.push(`export ${name} differs from the model (${hashOf(exp.data)} vs ${hashOf(mirror)})`);
  return failures;
}

const hashOf = (b: Buffer) => createHash("sha256").update(b).digest("hex").slice(0, 12);

interface Pending {
  cookie: number;
  error: number;
  data?: Buffer;
  what: string;
}

/** The whole case; an expected close ends it, an unexpected one throws (a read fails). */
async function runSteps(c: RawClient, exports: Map<string, Exported>, fuzz: NbdCase, failures: string[]) {
  const greeting = await c.read(18);
  if (greeting.toString("latin1", 0, 16) !== "NBDMAGICIHAVEOPT" || greeting.readUInt16BE(16) !== 3)
    failures.push(`bad greeting ${greeting.toString("hex")}`);
  let noZeroes = false;
  let exported: Exported | undefined;
  const pending: Pending[] = [];
  // A protocol violation may end the connection at once (proto.md: the server MAY initiate a
  // hard disconnect), dropping the replies still owed; a DISC or the client's end may not.
  const expectClose = async (why: string, hard = false) => {
    try {
      await drain(c, pending, failures);
    } catch (e) {
      if (!hard) throw e;
    }
    const closed = await Promise.race([c.untilClosed().then(() => true), delay(5000).then(() => false)]);
    if (!closed) failures.push(`the server kept the connection open after ${why}`);
  };
  for (const step of fuzz.steps) {
    if (step.kind === "flags") {
      const flags = Buffer.alloc(4);
      flags.writeUInt32BE(step.value >>> 0);
      c.socket.write(flags);
      if (step.value & ~3) return expectClose(`client flags 0x${step.value.toString(16)}`, true);
      noZeroes = (step.value & 2) !== 0;
      continue;
    }
    if (step.kind === "cut") {
      c.socket.end(step.bytes);
      return expectClose("a truncated frame");
    }
    if (step.kind === "option") {
      if (exported) continue; // past the handshake: options are not sent any more
      const header = Buffer.alloc(16);
      header.write(step.magic ? "IHAVEOPT" : "IHAVEOPX", 0, "latin1");
      header.writeUInt32BE(step.option >>> 0, 8);
      header.writeUInt32BE(step.declared >>> 0, 12);
      c.socket.write(Buffer.concat([header, step.data.subarray(0, step.declared)]));
      if (!step.magic) return expectClose("a bad option magic", true);
      if (step.declared > MAX_OPTION) return expectClose(`an option of ${step.declared} bytes`, true);
      if (step.declared > step.data.length) {
        c.socket.end();
        return expectClose("an option cut short");
      }
      const outcome = await optionAnswer(c, exports, step, noZeroes, failures);
      if (outcome === "closed") return expectClose(`option ${step.option}`);
      if (outcome) exported = outcome;
      continue;
    }
    if (!exported) continue; // requests only after an export is chosen
    const size = exported.mirror.length;
    if (!step.magic) {
      const bad = encodeRequest(step.type, step.cookie, step.offset, step.length, step.flags);
      bad.writeUInt32BE(0x25609514, 0);
      c.socket.write(bad);
      return expectClose("a bad request magic", true);
    }
    if (step.type === CMD.DISC) {
      c.socket.write(encodeRequest(CMD.DISC, step.cookie, 0, 0));
      return expectClose("NBD_CMD_DISC");
    }
    if (step.type === CMD.WRITE && step.length > MAX_PAYLOAD) {
      c.socket.write(encodeRequest(step.type, step.cookie, step.offset, step.length, step.flags));
      return expectClose(`a WRITE of ${step.length} bytes`, true);
    }
    if (step.type === CMD.WRITE && step.payload === undefined) continue; // not sent: too big to be quick
    const payload = step.type === CMD.WRITE ? Buffer.alloc(step.length, step.payload) : undefined;
    c.socket.write(encodeRequest(step.type, step.cookie, step.offset, step.length, step.flags, payload));
    pending.push(expectedReply(exported, step, payload, size));
    if (step.wait) await drain(c, pending, failures);
  }
  await drain(c, pending, failures);
  if (exported) {
    c.socket.write(encodeRequest(CMD.DISC, 1, 0, 0));
    await expectClose("NBD_CMD_DISC");
  }
}

/** The reply the protocol calls for, applying the request to the mirror (in arrival order). */
function expectedReply(
  e: Exported,
  step: Extract<Step, { kind: "request" }>,
  payload: Buffer | undefined,
  size: number,
): Pending {
  const readOnly = e.exp.readOnly;
  const what = `type=${step.type} flags=0x${step.flags.toString(16)} offset=${step.offset} length=${step.length}`;
  const result = (error: number, data?: Buffer) => ({ cookie: step.cookie, error, data, what });
  const allowed = FLAG_FUA | (step.type === CMD.WRITE_ZEROES ? FLAG_NO_HOLE : 0);
  if (step.flags & ~allowed) return result(EINVAL);
  const end = step.offset + BigInt(step.length);
  const beyond = end > BigInt(size);
  const [from, to] = [Number(step.offset), Number(end)];
  switch (step.type) {
    case CMD.READ:
      if (step.length > MAX_PAYLOAD || beyond) return result(EINVAL);
      return result(0, Buffer.from(e.mirror.subarray(from, to)));
    case CMD.WRITE:
      if (readOnly) return result(EPERM);
      if (beyond) return result(ENOSPC);
      payload!.copy(e.mirror, from);
      return result(0);
    case CMD.FLUSH:
      return result(0);
    case CMD.TRIM:
      if (readOnly) return result(EPERM);
      if (beyond) return result(EINVAL);
      e.mirror.fill(0, from, to); // MemoryExport's trim zeroes (trim is advisory in NBD)
      return result(0);
    case CMD.WRITE_ZEROES:
      if (readOnly) return result(EPERM);
      if (beyond) return result(ENOSPC);
      e.mirror.fill(0, from, to);
      return result(0);
    default:
      return result(EINVAL);
  }
}

/** Reads the replies of every pending request (in any order) and checks each against the model. */
async function drain(c: RawClient, pending: Pending[], failures: string[]): Promise<void> {
  const byCookie = new Map(pending.map((p) => [p.cookie, p]));
  pending.length = 0;
  while (byCookie.size > 0) {
    const reply = await c.reply((cookie) => byCookie.get(cookie)?.data?.length ?? 0);
    const expected = byCookie.get(reply.cookie);
    if (!expected) {
      failures.push(`a reply with cookie ${reply.cookie} nobody asked for`);
      return;
    }
    byCookie.delete(reply.cookie);
    if (reply.error !== expected.error) {
      failures.push(`${expected.what}: error ${reply.error}, expected ${expected.error}`);
      return; // the stream may be out of step now (data expected or not)
    }
    if (expected.data && !reply.data.equals(expected.data))
      failures.push(`${expected.what}: READ returned other bytes than were written`);
  }
}

/** Runs one option; the export once in transmission, "closed" when the server must hang up. */
async function optionAnswer(
  c: RawClient,
  exports: Map<string, Exported>,
  step: Extract<Step, { kind: "option" }>,
  noZeroes: boolean,
  failures: string[],
): Promise<Exported | "closed" | undefined> {
  const expectReply = async (type: number) => {
    const reply = await c.optionReply();
    if (reply.option !== step.option >>> 0 || reply.type !== type)
      failures.push(
        `option ${step.option}: reply type 0x${reply.type.toString(16)}, expected 0x${type.toString(16)}`,
      );
    return reply;
  };
  switch (step.option) {
    case OPT.EXPORT_NAME: {
      const e = exports.get(step.data.toString("utf8"));
      if (!e) return "closed";
      const answer = await c.read(noZeroes ? 10 : 134);
      if (
        answer.readBigUInt64BE(0) !== BigInt(e.mirror.length) ||
        answer.readUInt16BE(8) !== transmissionFlags(e.exp.readOnly)
      )
        failures.push(`EXPORT_NAME answered ${answer.subarray(0, 10).toString("hex")}`);
      return e;
    }
    case OPT.ABORT:
      await expectReply(REP.ACK);
      return "closed";
    case OPT.LIST:
      await expectReply(step.data.length === 0 ? REP.ERR_UNSUP : REP.ERR_INVALID);
      return undefined;
    case OPT.INFO:
    case OPT.GO: {
      const name = infoName(step.data);
      const e = name === undefined ? undefined : exports.get(name);
      if (name === undefined) await expectReply(REP.ERR_INVALID);
      else if (!e) await expectReply(REP.ERR_UNKNOWN);
      else {
        const info = await expectReply(REP.INFO);
        if (
          info.data.length !== 12 ||
          info.data.readBigUInt64BE(2) !== BigInt(e.mirror.length) ||
          info.data.readUInt16BE(10) !== transmissionFlags(e.exp.readOnly)
        )
          failures.push(`NBD_INFO_EXPORT is ${info.data.toString("hex")}`);
        await expectReply(REP.INFO);
        await expectReply(REP.ACK);
        if (step.option === OPT.GO) return e;
      }
      return undefined;
    }
    default:
      await expectReply(REP.ERR_UNSUP);
      return undefined;
  }
}

/** The export name of an NBD_OPT_INFO/GO payload, undefined when the payload is malformed. */
function infoName(data: Buffer): string | undefined {
  if (data.length < 6) return undefined;
  const length = data.readUInt32BE(0);
  if (length > 4096 || 6 + length > data.length) return undefined;
  if (data.length !== 6 + length + 2 * data.readUInt16BE(4 + length)) return undefined;
  return data.toString("utf8", 4, 4 + length);
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

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
