import type { Tag as SdkTag, TagSpecification } from "@aws-sdk/client-ec2";
import { StrataError } from "../../errors.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";

const MAX_TAGS = 50;

/** EC2's resource type names, by id prefix. */
export function resourceTypeOf(id: string): string | undefined {
  const prefix = id.slice(0, id.indexOf("-"));
  return (
    { vol: "volume", snap: "snapshot", ami: "image", i: "instance", key: "key-pair" } as Record<
      string,
      string
    >
  )[prefix];
}

/** EC2's tag rules: keys 1-128 characters, not `aws:`-prefixed; values up to 256 characters. */
export function validateTags(tags: Tag[]): Tag[] {
  for (const t of tags) {
    if (!t.key || t.key.length > 128) {
      throw new StrataError("InvalidParameterValue", `Tag key '${t.key}' must be 1 to 128 characters long`);
    }
    if (t.key.toLowerCase().startsWith("aws:")) {
      throw new StrataError(
        "InvalidParameterValue",
        "Tag keys starting with 'aws:' are reserved for internal use",
      );
    }
    if (t.value.length > 256) {
      throw new StrataError("InvalidParameterValue", `Tag value for key '${t.key}' exceeds 256 characters`);
    }
  }
  if (new Set(tags.map((t) => t.key)).size > MAX_TAGS) {
    throw new StrataError("TagLimitExceeded", `A resource can have at most ${MAX_TAGS} tags`);
  }
  return tags;
}

export function fromSdkTags(tags: SdkTag[] | undefined): Tag[] {
  return (tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value ?? "" }));
}

export function toSdkTags(tags: Tag[] | undefined): SdkTag[] | undefined {
  return tags?.length ? tags.map((t) => ({ Key: t.key, Value: t.value })) : undefined;
}

/** The tags a create call's TagSpecifications give the resource type it creates. */
export function tagsFromSpecifications(specs: TagSpecification[] | undefined, resourceType: string): Tag[] {
  const tags: Tag[] = [];
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) {
      throw new StrataError(
        "InvalidParameterValue",
        `'${spec.ResourceType ?? ""}' is not a valid taggable resource type for this operation.`,
      );
    }
    tags.push(...fromSdkTags(spec.Tags));
  }
  return validateTags(tags);
}
