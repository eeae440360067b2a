// Tags on an account's resources. Tags belong to the resource's owner: an account an image or
// snapshot is shared with neither sees nor changes them (EC2 does not show an owner's tags to
// other accounts). Every create call writes its tags in its own transaction; this service is for
// CreateTags, DeleteTags and DescribeTags, and for showing tags on describe calls.
import { StrataError } from "../../errors.ts";
import type { CatalogStore, Tag } from "../../storage/metadata/catalog-store.ts";
import type { Owned } from "../access/sharing.ts";
import { MAX_TAGS, validateTags } from "./tag-rules.ts";

/** EC2's resource type names, by id prefix. */
export function resourceTypeOf(id: string): string | undefined {
  const prefix = id.slice(0, id.indexOf("-"));
  return (
    {
      vol: "volume",
      snap: "snapshot",
      ami: "image",
      i: "instance",
      key: "key-pair",
      sg: "security-group",
      sgr: "security-group-rule",
      vpc: "vpc",
      subnet: "subnet",
      igw: "internet-gateway",
      rtb: "route-table",
      eni: "network-interface",
      eipalloc: "elastic-ip",
    } as Record<string, string>
  )[prefix];
}

/** Resolves an id of a resource type to the account's own resource (its service's NotFound otherwise). */
export type OwnedLookup = (accountId: string, id: string) => Promise<unknown>;

export class TagService {
  readonly #catalog: CatalogStore;
  readonly #owned: Record<string, OwnedLookup>;
  readonly #ownedIds: (accountId: string) => Promise<Set<string>>;

  constructor(
    catalog: CatalogStore,
    owned: Record<string, OwnedLookup>,
    ownedIds: (accountId: string) => Promise<Set<string>>,
  ) {
    this.#catalog = catalog;
    this.#owned = owned;
    this.#ownedIds = ownedIds;
  }

  /** Tags of the records the account owns; shared and public ones show none. */
  async visibleTo(accountId: string, records: Owned[]): Promise<Map<string, Tag[]>> {
    return this.#catalog.tagsOf(records.filter((r) => r.ownerId === accountId).map((r) => r.id));
  }

  /** Throws the resource's NotFound (or InvalidID) unless the account owns every id. */
  async checkOwned(accountId: string, ids: string[]): Promise<void> {
    for (const id of ids) {
      const lookup = this.#owned[resourceTypeOf(id) ?? ""];
      if (!lookup) throw new StrataError("InvalidID", `The ID '${id}' is not valid`);
      await lookup(accountId, id);
    }
  }

  async create(accountId: string, ids: string[], tags: Tag[]): Promise<void> {
    validateTags(tags);
    await this.checkOwned(accountId, ids);
    const current = await this.#catalog.tagsOf(ids);
    for (const id of ids) {
      const keys = new Set([...(current.get(id) ?? []).map((t) => t.key), ...tags.map((t) => t.key)]);
      if (keys.size > MAX_TAGS)
        throw new StrataError("TagLimitExceeded", `Resource ${id} would have more than ${MAX_TAGS} tags`);
    }
    await this.#catalog.setTags(ids, tags);
  }

  /** A tag with value undefined deletes the key whatever its value; no tags deletes them all. */
  async delete(accountId: string, ids: string[], tags: { key: string; value?: string }[]): Promise<void> {
    await this.checkOwned(accountId, ids);
    await this.#catalog.deleteTags(ids, tags);
  }

  /** Every tag on the account's own resources, by resource id then key. */
  async describe(accountId: string): Promise<{ resourceId: string; key: string; value: string }[]> {
    const owned = await this.#ownedIds(accountId);
    return (await this.#catalog.allTags()).filter((t) => owned.has(t.resourceId));
  }
}
