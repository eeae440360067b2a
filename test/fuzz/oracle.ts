// What every answer must be, whatever was asked: never a 500, well-formed, and an error only as
// the documented error shape with a code from src/errors.ts and that code's HTTP status.
import { XMLValidator } from "fast-xml-parser";
import { type ErrorCode, errorCatalogue } from "../../src/errors.ts";
import type { Reply } from "./wire.ts";

export type Verdict = { ok: true; error?: ErrorCode } | { ok: false; why: string };

const EC2_ERROR =
  /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>([^<]+)<\/Code>(?:<Message>[^<]*<\/Message>|<Message\/>)<\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/;

function knownCode(code: string, status: number): Verdict {
  if (!Object.hasOwn(errorCatalogue, code))
    return { ok: false, why: `error code ${code} is not in src/errors.ts` };
  const expected = errorCatalogue[code as ErrorCode].status;
  if (status !== expected) return { ok: false, why: `${code} answered with HTTP ${status}, not ${expected}` };
  if (status >= 500 && code !== "InsufficientInstanceCapacity")
    return { ok: false, why: `server error ${code}` };
  return { ok: true, error: code as ErrorCode };
}

/** An EC2 Query answer: `<{Action}Response>` XML, or EC2's error document. */
export function checkEc2Reply(reply: Reply): Verdict {
  const text = reply.body.toString("utf8");
  if (reply.status === 500) return { ok: false, why: `HTTP 500: ${text.slice(0, 300)}` };
  const valid = XMLValidator.validate(text);
  if (valid !== true) return { ok: false, why: `malformed XML (${valid.err.msg}): ${text.slice(0, 300)}` };
  if (reply.status === 200) {
    if (!/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<[A-Za-z]+Response xmlns=/.test(text))
      return { ok: false, why: `200 without an EC2 response document: ${text.slice(0, 300)}` };
    return { ok: true };
  }
  const m = EC2_ERROR.exec(text);
  if (!m)
    return { ok: false, why: `HTTP ${reply.status} without an EC2 error document: ${text.slice(0, 300)}` };
  return knownCode(m[1], reply.status);
}

/** An EBS direct API answer: 2xx, or the rest-json error (x-amzn-ErrorType, JSON with a message). */
export function checkEbsReply(reply: Reply): Verdict {
  if (reply.status === 500)
    return { ok: false, why: `HTTP 500: ${reply.body.toString("utf8").slice(0, 300)}` };
  if (reply.status >= 200 && reply.status < 300) return { ok: true };
  const code = reply.headers["x-amzn-errortype"];
  if (typeof code !== "string") return { ok: false, why: `HTTP ${reply.status} without x-amzn-ErrorType` };
  let doc: unknown;
  try {
    doc = JSON.parse(reply.body.toString("utf8"));
  } catch {
    return { ok: false, why: `${code}: body is not JSON: ${reply.body.toString("utf8").slice(0, 200)}` };
  }
  const message = (doc as { message?: unknown })?.message;
  if (typeof message !== "string") return { ok: false, why: `${code}: no message in ${JSON.stringify(doc)}` };
  return knownCode(code, reply.status);
}
