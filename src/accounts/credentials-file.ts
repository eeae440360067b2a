import { chmodSync, renameSync, writeFileSync } from "node:fs";

/** An AWS shared-credentials file whose `[default]` profile is the given access key. */
export function credentialsFileText(accessKeyId: string, secretAccessKey: string): string {
  return [
    "# Written by strata on first start: the admin account's access key.",
    "[default]",
    `aws_access_key_id = ${accessKeyId}`,
    `aws_secret_access_key = ${secretAccessKey}`,
    "",
  ].join("\n");
}

/** Writes the file atomically with mode 0600 (it holds a secret). */
export function writeCredentialsFile(path: string, accessKeyId: string, secretAccessKey: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, credentialsFileText(accessKeyId, secretAccessKey), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
