// API errors are shown as the API gave them: its code and its message, never a generic failure.
export function errorCode(e: unknown): string {
  const err = e as { name?: string; Code?: string; code?: string };
  return err?.Code ?? err?.code ?? err?.name ?? "Error";
}

export function errorText(e: unknown): string {
  const message = (e as { message?: string })?.message ?? String(e);
  return `${errorCode(e)}: ${message}`;
}
