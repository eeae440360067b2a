// What an account gets back from one call, in a form two calls can be compared by: HTTP status,
// error code (and the EBS API's Reason), and the message or the answer with the id taken out.

export interface Outcome {
  status: number;
  /** The error code, or "OK" for an answer. */
  code: string;
  reason?: string;
  /** The error message, or the answer as JSON (without $metadata). */
  text: string;
}

interface ServiceError {
  name?: string;
  message?: string;
  Reason?: string;
  $metadata?: { httpStatusCode?: number };
}

/** JSON of an answer, with streams (GetSnapshotBlock's data) drained and shown as a marker. */
function answerText(value: unknown): string {
  return JSON.stringify(value ?? {}, (key, v) => {
    if (key === "$metadata") return undefined;
    if (v && typeof v === "object" && typeof (v as { pipe?: unknown }).pipe === "function") {
      (v as { destroy?: () => void }).destroy?.();
      return "<stream>";
    }
    return v;
  });
}

/** Runs the call; a service error is an outcome, anything else (a bug in the probe) is thrown. */
export async function outcomeOf(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { status: 200, code: "OK", text: answerText(await call()) };
  } catch (e) {
    const err = e as ServiceError;
    if (!err.$metadata?.httpStatusCode || !err.name) throw e;
    return {
      status: err.$metadata.httpStatusCode,
      code: err.name,
      reason: err.Reason,
      text: err.message ?? "",
    };
  }
}

/** The outcome with every occurrence of `id` replaced by a placeholder. */
export function withoutId(o: Outcome, id: string): Outcome {
  return { ...o, text: o.text.replaceAll(id, "<id>") };
}

export function describe(o: Outcome): string {
  const reason = o.reason ? `/${o.reason}` : "";
  return `${o.status} ${o.code}${reason} "${o.text.length > 300 ? `${o.text.slice(0, 300)}...` : o.text}"`;
}

/**
 * Why B's outcome for A's id differs from its outcome for an id that never existed, or what it
 * reveals; undefined when the two are the same but for the id.
 */
export function difference(
  real: Outcome,
  realId: string,
  fake: Outcome,
  fakeId: string,
  secrets: string[],
): string | undefined {
  const r = withoutId(real, realId);
  const f = withoutId(fake, fakeId);
  const leaked = secrets.filter((s) => s !== realId && r.text.includes(s));
  if (r.status !== f.status || r.code !== f.code || r.reason !== f.reason || r.text !== f.text) {
    return `B gets ${describe(r)}; a never-existing id gets ${describe(f)}`;
  }
  if (leaked.length) return `the answer names ${leaked.join(", ")}: ${describe(r)}`;
  return undefined;
}
