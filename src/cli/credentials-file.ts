// One profile of an AWS shared-credentials (INI) file: the data dir's `credentials` (written by the
// server on first start), read without loading the AWS SDK (the admin commands need only its key).
import { readFileSync } from "node:fs";

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function readCredentialsFile(path: string, profile: string): StaticCredentials {
  let section = "";
  const values: Record<string, string> = {};
  for (const raw of readFileSync(path, "utf8").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header) section = header[1];
    else if (section === profile) {
      const eq = line.indexOf("=");
      if (eq > 0) values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  const accessKeyId = values.aws_access_key_id;
  const secretAccessKey = values.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) throw new Error(`no [${profile}] access key in ${path}`);
  return { accessKeyId, secretAccessKey, sessionToken: values.aws_session_token };
}
