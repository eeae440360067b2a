// Test helpers: the external tools EC2's documentation verifies keys with (ssh-keygen, openssl, puttygen),
// run on key files in a temporary directory. A test whose tool is missing is skipped, not failed.
import { execSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function installed(tool: string): boolean {
  return spawnSync(tool, ["--version"]).error === undefined;
}

/** `false` when installed, else the reason to skip (node:test's `skip` option). */
export const noSshKeygen = !installed("ssh-keygen") && "ssh-keygen is not installed";
export const noOpenssl = !installed("openssl") && "openssl is not installed";
export const noPuttygen = !installed("puttygen") && "puttygen (putty-tools) is not installed";

/** A temporary directory for key files; `remove` deletes it. */
export class KeyDir {
  readonly path = mkdtempSync(join(tmpdir(), "strata-keys-"));
  #files = 0;

  /** A new file holding `content`, private to the user as ssh-keygen insists. */
  write(content: string | Buffer): string {
    const file = this.file();
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  }

  /** A fresh path in the directory, not yet created. */
  file(): string {
    return join(this.path, `key${this.#files++}`);
  }

  /** A shell pipeline's output (trimmed), as the docs run it. */
  sh(command: string): string {
    return execSync(command, { cwd: this.path, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** The digest `openssl md5 -c` / `openssl sha1 -c` prints after "(stdin)= ". */
export function opensslDigest(output: string): string {
  return output.slice(output.lastIndexOf("= ") + 2);
}

/** "type base64" of an OpenSSH public key line, without its comment. */
export function keyPart(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}
