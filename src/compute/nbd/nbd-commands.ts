// One transmission-phase request against an export: validation, the backend call, the NBD error.
import type { NbdExport } from "./nbd-export.ts";
import {
  commandName,
  NBD_CMD_FLAG_FUA,
  NBD_CMD_FLAG_NO_HOLE,
  NBD_CMD_FLUSH,
  NBD_CMD_READ,
  NBD_CMD_TRIM,
  NBD_CMD_WRITE,
  NBD_CMD_WRITE_ZEROES,
  NBD_EINVAL,
  NBD_EIO,
  NBD_ENOSPC,
  NBD_EPERM,
  NBD_MAX_PAYLOAD,
  NBD_REQUEST_MAGIC,
  NBD_REQUEST_SIZE,
  NbdProtocolError,
} from "./nbd-protocol.ts";

const ZERO_PIECE = 4 * 1024 * 1024;

export interface NbdRequest {
  readonly flags: number;
  readonly type: number;
  /** The client's 8-byte handle, echoed in the reply. */
  readonly cookie: Buffer;
  /** May exceed Number.MAX_SAFE_INTEGER (then imprecise, but still beyond any export's end). */
  readonly offset: number;
  readonly length: number;
}

export interface NbdResult {
  readonly error: number;
  readonly data?: Buffer;
}

export function parseRequest(header: Buffer): NbdRequest {
  if (header.length !== NBD_REQUEST_SIZE || header.readUInt32BE(0) !== NBD_REQUEST_MAGIC) {
    throw new NbdProtocolError("bad request magic");
  }
  return {
    flags: header.readUInt16BE(4),
    type: header.readUInt16BE(6),
    cookie: header.subarray(8, 16),
    offset: header.readUInt32BE(16) * 2 ** 32 + header.readUInt32BE(20),
    length: header.readUInt32BE(24),
  };
}

/** Runs the request; never throws (a failing backend is logged and answered with NBD_EIO). */
export async function execute(
  exp: NbdExport,
  req: NbdRequest,
  payload: Buffer | undefined,
  log: (msg: string) => void,
): Promise<NbdResult> {
  const allowedFlags = NBD_CMD_FLAG_FUA | (req.type === NBD_CMD_WRITE_ZEROES ? NBD_CMD_FLAG_NO_HOLE : 0);
  if (req.flags & ~allowedFlags) return { error: NBD_EINVAL };
  const fua = (req.flags & NBD_CMD_FLAG_FUA) !== 0;
  const beyondEnd = req.offset + req.length > exp.sizeBytes;
  try {
    switch (req.type) {
      case NBD_CMD_READ: {
        if (req.length > NBD_MAX_PAYLOAD || beyondEnd) return { error: NBD_EINVAL };
        if (req.length === 0) return { error: 0, data: Buffer.alloc(0) };
        const data = await exp.read(req.offset, req.length);
        if (data.length !== req.length) throw new Error(`read returned ${data.length} bytes`);
        return { error: 0, data };
      }
      case NBD_CMD_WRITE:
        if (exp.readOnly) return { error: NBD_EPERM };
        if (beyondEnd) return { error: NBD_ENOSPC };
        if (payload?.length) await exp.write(req.offset, payload);
        if (fua) await exp.flush();
        return { error: 0 };
      case NBD_CMD_FLUSH:
        await exp.flush();
        return { error: 0 };
      case NBD_CMD_TRIM:
        if (!exp.trim) return { error: NBD_EINVAL };
        if (exp.readOnly) return { error: NBD_EPERM };
        if (beyondEnd) return { error: NBD_EINVAL };
        if (req.length > 0) await exp.trim(req.offset, req.length);
        if (fua) await exp.flush();
        return { error: 0 };
      case NBD_CMD_WRITE_ZEROES:
        if (exp.readOnly) return { error: NBD_EPERM };
        if (beyondEnd) return { error: NBD_ENOSPC };
        await writeZeroes(exp, req.offset, req.length);
        if (fua) await exp.flush();
        return { error: 0 };
      default:
        return { error: NBD_EINVAL };
    }
  } catch (e) {
    const what = `${commandName(req.type)} offset=${req.offset} length=${req.length}`;
    log(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    return { error: NBD_EIO };
  }
}

/** Zeros written as data (so NBD_CMD_FLAG_NO_HOLE is honoured too), in bounded pieces of one buffer. */
async function writeZeroes(exp: NbdExport, offset: number, length: number): Promise<void> {
  if (length === 0) return;
  const zeros = Buffer.alloc(Math.min(length, ZERO_PIECE));
  for (let done = 0; done < length; done += zeros.length) {
    const n = Math.min(zeros.length, length - done);
    await exp.write(offset + done, n === zeros.length ? zeros : zeros.subarray(0, n));
  }
}
