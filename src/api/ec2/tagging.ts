import type { Tag as SdkTag, TagSpecification } from "@aws-sdk/client-ec2";
import { StrataError } from "../../errors.ts";
import { validateTags } from "../../services/tags/tag-rules.ts";
import type { Tag } from "../../storage/metadata/catalog-store.ts";

export function fromSdkTags(tags: SdkTag[] | undefined): Tag[] {
  return (tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value ?? "" }));
}

export function toSdkTags(tags: Tag[] | undefined): SdkTag[] | undefined {
  return tags?.length ? tags.map((t) => ({ Key: t.key, Value: t.value })) : undefined;
}

/**
 * The tags a create call's TagSpecifications give each resource type it creates (only the types
 * in `types`; the first is the only one most calls take), checked against EC2's tag rules.
 */
export function tagsBySpecification<T extends string>(
  specs: TagSpecification[] | undefined,
  types: readonly T[],
): Record<T, Tag[]> {
  const out = Object.fromEntries(types.map((t) => [t, [] as Tag[]])) as Record<T, Tag[]>;
  for (const spec of specs ?? []) {
    const type = spec.ResourceType as T | undefined;
    if (type === undefined || !types.includes(type)) {
      throw new StrataError(
        "InvalidParameterValue",
        `'${spec.ResourceType ?? ""}' is not a valid taggable resource type for this operation.`,
      );
    }
    out[type].push(...fromSdkTags(spec.Tags));
  }
  for (const t of types) validateTags(out[t]);
  return out;
}

/** The tags a create call's TagSpecifications give the one resource type it creates. */
export function tagsFromSpecifications(specs: TagSpecification[] | undefined, resourceType: string): Tag[] {
  return tagsBySpecification(specs, [resourceType])[resourceType];
}
