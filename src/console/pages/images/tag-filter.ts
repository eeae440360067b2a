// The AMIs list's tag filter: "key" keeps images with the tag, "key=value" those with that value
// (exact and case-sensitive, as EC2's tag:<key> filter without wildcards).
import type { Tag } from "@aws-sdk/client-ec2";

export function matchesTag(tags: Tag[] | undefined, filter: string): boolean {
  const f = filter.trim();
  if (!f) return true;
  const eq = f.indexOf("=");
  const key = (eq < 0 ? f : f.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : f.slice(eq + 1).trim();
  return (tags ?? []).some((t) => t.Key === key && (value === undefined || (t.Value ?? "") === value));
}
