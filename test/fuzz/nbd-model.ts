// Runs an NBD fuzz case (nbd-cases.ts) and predicts each answer with a reference model of the
// protocol (proto.md) and in-memory mirrors of the exports, checked byte for byte.
import { createHash } from "node:crypto";
import { encodeRequest, RawClient } from "../../src/compute/nbd/test-tools.ts";
import {
  CMD,
  type Exported,
  FLAG_FUA,
  FLAG_NO_HOLE,
  MAX_OPTION,
  MAX_PAYLOAD,
  type NbdCase,
  OPT,
  type Step,
} from "./nbd-cases.ts";

const REP = { ACK: 1, INFO: 3, ERR_UNSUP: 2 ** 31 + 1, ERR_INVALID: 2 ** 31 + 3, ERR_UNKNOWN: 2 ** 31 + 6 };
const EPERM = 1;
const EINVAL = 22;
const ENOSPC = 28;

/** HAS_FLAGS | SEND_FLUSH | SEND_FUA | SEND_WRITE_ZEROES | CAN_MULTI_CONN | SEND_TRIM, + READ_ONLY. */
const transmissionFlags = (readOnly: boolean) => 0x1 | 0x4 | 0x8 | 0x40 | 0x100 | 0x20 | (readOnly ? 0x2 : 0);

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
