import { StrataError } from "../../errors.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";

export const MAX_TAGS = 50;

/**
 * EC2's tag rules, checked by every service that takes tags (EC2, EBS StartSnapshot, key pairs,
 * the console): keys 1-128 characters, not `aws:`-prefixed; values up to 256 characters; at
 * most 50 tags on a resource.
 */
export function validateTags(tags: Tag[]): Tag[] {
  for (const t of tags) {
    if (typeof t.key !== "string" || !t.key || [...t.key].length > 128) {
      throw new StrataError("InvalidParameterValue", `Tag key '${t.key}' must be 1 to 128 characters long`);
    }
    if (t.key.toLowerCase().startsWith("aws:")) {
      throw new StrataError(
        "InvalidParameterValue",
        "Tag keys starting with 'aws:' are reserved for internal use",
      );
    }
    if (typeof t.value !== "string" || [...t.value].length > 256) {
      throw new StrataError("InvalidParameterValue", `Tag value for key '${t.key}' exceeds 256 characters`);
    }
  }
  if (new Set(tags.map((t) => t.key)).size > MAX_TAGS) {
    throw new StrataError("TagLimitExceeded", `A resource can have at most ${MAX_TAGS} tags`);
  }
  return tags;
}
