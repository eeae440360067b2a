// Who the console acts as: an access key pasted or read from a credentials file, and the region
// chosen. Kept in sessionStorage, so a reload stays signed in and closing the tab forgets the key
// (the AWS console's session cookie ends with the browser session the same way).
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Session {
  credentials: Credentials;
  region: string;
}

const KEY = "strata.console.session";

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Session;
    return s.credentials?.accessKeyId && s.credentials.secretAccessKey && s.region ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(s: Session | undefined): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

/** Profiles of an AWS shared credentials file (`[name]` sections with aws_access_key_id/secret). */
export function parseCredentialsFile(text: string): Record<string, Credentials> {
  const out: Record<string, Credentials> = {};
  let profile: string | undefined;
  const partial: Record<string, Partial<Credentials>> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, "").trim();
    if (!line) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      profile = section[1];
      partial[profile] ??= {};
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || profile === undefined) continue;
    if (kv[1] === "aws_access_key_id") partial[profile].accessKeyId = kv[2];
    if (kv[1] === "aws_secret_access_key") partial[profile].secretAccessKey = kv[2];
  }
  for (const [name, c] of Object.entries(partial)) {
    if (c.accessKeyId && c.secretAccessKey) out[name] = c as Credentials;
  }
  return out;
}
