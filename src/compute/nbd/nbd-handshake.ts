// The fixed newstyle handshake: greeting, client flags, then options until the client picks an export
// (NBD_OPT_GO or NBD_OPT_EXPORT_NAME) or gives up (NBD_OPT_ABORT).
import type { ByteQueue } from "./byte-queue.ts";
import type { NbdExport } from "./nbd-export.ts";
import {
  NBD_FLAG_C_FIXED_NEWSTYLE,
  NBD_FLAG_C_NO_ZEROES,
  NBD_FLAG_CAN_MULTI_CONN,
  NBD_FLAG_FIXED_NEWSTYLE,
  NBD_FLAG_HAS_FLAGS,
  NBD_FLAG_NO_ZEROES,
  NBD_FLAG_READ_ONLY,
  NBD_FLAG_SEND_FLUSH,
  NBD_FLAG_SEND_FUA,
  NBD_FLAG_SEND_TRIM,
  NBD_FLAG_SEND_WRITE_ZEROES,
  NBD_IHAVEOPT,
  NBD_INFO_BLOCK_SIZE,
  NBD_INFO_EXPORT,
  NBD_MAGIC,
  NBD_MAX_PAYLOAD,
  NBD_MAX_STRING,
  NBD_MIN_BLOCK_SIZE,
  NBD_OPT_ABORT,
  NBD_OPT_EXPORT_NAME,
  NBD_OPT_GO,
  NBD_OPT_INFO,
  NBD_OPT_LIST,
  NBD_OPTION_HEADER_SIZE,
  NBD_OPTION_REPLY_MAGIC,
  NBD_PREFERRED_BLOCK_SIZE,
  NBD_REP_ACK,
  NBD_REP_ERR_INVALID,
  NBD_REP_ERR_UNKNOWN,
  NBD_REP_ERR_UNSUP,
  NBD_REP_INFO,
  NbdProtocolError,
} from "./nbd-protocol.ts";

/** Options are small (a name and a few info requests); anything bigger is taken as an attack. */
const MAX_OPTION_LENGTH = 64 * 1024;

export interface HandshakeIo {
  readonly queue: ByteQueue;
  write(data: Buffer): void;
  resolve(name: string): Promise<NbdExport | undefined>;
}

export interface Negotiated {
  readonly name: string;
  readonly export: NbdExport;
}

export function transmissionFlags(exp: NbdExport): number {
  let flags =
    NBD_FLAG_HAS_FLAGS |
    NBD_FLAG_SEND_FLUSH |
    NBD_FLAG_SEND_FUA |
    NBD_FLAG_SEND_WRITE_ZEROES |
    NBD_FLAG_CAN_MULTI_CONN;
  if (exp.trim) flags |= NBD_FLAG_SEND_TRIM;
  if (exp.readOnly) flags |= NBD_FLAG_READ_ONLY;
  return flags;
}

/** Runs the handshake; undefined when the client aborted it. Throws NbdProtocolError to hang up. */
export async function negotiate(io: HandshakeIo): Promise<Negotiated | undefined> {
  const greeting = Buffer.alloc(18);
  NBD_MAGIC.copy(greeting, 0);
  NBD_IHAVEOPT.copy(greeting, 8);
  greeting.writeUInt16BE(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, 16);
  io.write(greeting);

  const clientFlags = (await io.queue.take(4)).readUInt32BE(0);
  if (clientFlags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
    throw new NbdProtocolError(`unknown client flags 0x${clientFlags.toString(16)}`);
  }
  const noZeroes = (clientFlags & NBD_FLAG_C_NO_ZEROES) !== 0;

  for (;;) {
    const header = await io.queue.take(NBD_OPTION_HEADER_SIZE);
    if (!header.subarray(0, 8).equals(NBD_IHAVEOPT)) throw new NbdProtocolError("bad option magic");
    const option = header.readUInt32BE(8);
    const length = header.readUInt32BE(12);
    if (length > MAX_OPTION_LENGTH) throw new NbdProtocolError(`option ${option} of ${length} bytes`);
    const data = await io.queue.take(length);
    const reply = (type: number, payload?: Buffer) => io.write(optionReply(option, type, payload));

    switch (option) {
      case NBD_OPT_EXPORT_NAME: {
        const name = data.toString("utf8");
        const exp = await io.resolve(name);
        if (!exp) throw new NbdProtocolError(`unknown export ${JSON.stringify(name)} (NBD_OPT_EXPORT_NAME)`);
        const answer = Buffer.alloc(noZeroes ? 10 : 134);
        answer.writeBigUInt64BE(BigInt(exp.sizeBytes), 0);
        answer.writeUInt16BE(transmissionFlags(exp), 8);
        io.write(answer);
        return { name, export: exp };
      }
      case NBD_OPT_ABORT:
        reply(NBD_REP_ACK);
        return undefined;
      case NBD_OPT_LIST:
        reply(length === 0 ? NBD_REP_ERR_UNSUP : NBD_REP_ERR_INVALID);
        break;
      case NBD_OPT_INFO:
      case NBD_OPT_GO: {
        const name = parseInfoRequest(data);
        if (name === undefined) {
          reply(NBD_REP_ERR_INVALID, Buffer.from("malformed NBD_OPT_INFO/GO request"));
          break;
        }
        const exp = await io.resolve(name);
        if (!exp) {
          reply(NBD_REP_ERR_UNKNOWN, Buffer.from(`unknown export: ${name}`.slice(0, NBD_MAX_STRING)));
          break;
        }
        // The requested info types don't matter: these two are always sent, the others aren't supported.
        reply(NBD_REP_INFO, infoExport(exp));
        reply(NBD_REP_INFO, infoBlockSize());
        reply(NBD_REP_ACK);
        if (option === NBD_OPT_GO) return { name, export: exp };
        break;
      }
      default:
        // Includes STARTTLS, STRUCTURED_REPLY, the meta context options and EXTENDED_HEADERS.
        reply(NBD_REP_ERR_UNSUP);
    }
  }
}

/** The export name of an NBD_OPT_INFO/GO request, or undefined if the request is malformed. */
function parseInfoRequest(data: Buffer): string | undefined {
  if (data.length < 6) return undefined;
  const nameLength = data.readUInt32BE(0);
  if (nameLength > NBD_MAX_STRING || nameLength > data.length - 6) return undefined;
  const count = data.readUInt16BE(4 + nameLength);
  if (data.length !== 6 + nameLength + 2 * count) return undefined;
  return data.toString("utf8", 4, 4 + nameLength);
}

function infoExport(exp: NbdExport): Buffer {
  const info = Buffer.alloc(12);
  info.writeUInt16BE(NBD_INFO_EXPORT, 0);
  info.writeBigUInt64BE(BigInt(exp.sizeBytes), 2);
  info.writeUInt16BE(transmissionFlags(exp), 10);
  return info;
}

function infoBlockSize(): Buffer {
  const info = Buffer.alloc(14);
  info.writeUInt16BE(NBD_INFO_BLOCK_SIZE, 0);
  info.writeUInt32BE(NBD_MIN_BLOCK_SIZE, 2);
  info.writeUInt32BE(NBD_PREFERRED_BLOCK_SIZE, 6);
  info.writeUInt32BE(NBD_MAX_PAYLOAD, 10);
  return info;
}

function optionReply(option: number, type: number, payload?: Buffer): Buffer {
  const reply = Buffer.alloc(20 + (payload?.length ?? 0));
  reply.writeBigUInt64BE(NBD_OPTION_REPLY_MAGIC, 0);
  reply.writeUInt32BE(option, 8);
  reply.writeUInt32BE(type, 12);
  reply.writeUInt32BE(payload?.length ?? 0, 16);
  payload?.copy(reply, 20);
  return reply;
}
