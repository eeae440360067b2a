import { StrataError } from "../../errors.ts";

export const MAX_USER_DATA = 16 * 1024;

/** EC2 takes user data base64-encoded and limits the decoded bytes to 16 KB. */
export function checkUserData(userData: string | undefined): string | null {
  if (userData === undefined || userData === "") return null;
  const compact = userData.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new StrataError("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.");
  }
  const bytes = Buffer.from(compact, "base64").length;
  if (bytes > MAX_USER_DATA) {
    throw new StrataError(
      "InvalidParameterValue",
      `User data is limited to ${MAX_USER_DATA} bytes (got ${bytes})`,
    );
  }
  return compact;
}
