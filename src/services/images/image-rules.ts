// EC2's rules for images, as pure checks: names, architectures, deprecation times and the
// deregistration-protection states (with EC2's 24-hour cooldown).
import { StrataError } from "../../errors.ts";

// EC2's rule for AMI names: 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;
export const ARCHITECTURES = ["i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"];
const DAY_MS = 24 * 3600 * 1000;

export function checkName(name: string): void {
  if (!AMI_NAME.test(name)) {
    throw new StrataError(
      "InvalidAMIName.Malformed",
      `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`,
    );
  }
}

/** EC2 refuses past dates and more than 10 years ahead. (EC2 rounds to the minute; Strata keeps seconds.) */
export function checkDeprecationTime(at: Date): void {
  const now = Date.now();
  if (!(at.getTime() >= now - 1000 && at.getTime() <= now + 10 * 365 * DAY_MS)) {
    throw new StrataError(
      "InvalidParameterValue",
      `DeprecateAt must be in the future and within 10 years: ${Number.isNaN(at.getTime()) ? "invalid date" : at.toISOString()}`,
    );
  }
}

/**
 * The protection state after Enable/DisableImageDeregistrationProtection: "enabled",
 * "enabled-with-cooldown", "disabled", or "disabled-until <ISO time>" (a protection with a
 * cooldown lasts 24 hours after it is disabled).
 */
export function nextProtection(current: string, enable: boolean, withCooldown: boolean): string {
  if (enable) return withCooldown ? "enabled-with-cooldown" : "enabled";
  if (current === "enabled-with-cooldown")
    return `disabled-until ${new Date(Date.now() + DAY_MS).toISOString()}`;
  return current.startsWith("disabled") ? current : "disabled";
}

/** Whether an image in this protection state may be deregistered now. */
export function deregistrationAllowed(protection: string): boolean {
  const until = /^disabled-until (.+)$/.exec(protection)?.[1];
  return protection === "disabled" || (until !== undefined && new Date(until) <= new Date());
}
