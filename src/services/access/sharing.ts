// Who may use a shared resource: its owner, an account it is shared with, or everyone when it is
// public ('all'). The one place these decisions are made, for images (launchPermission) and
// snapshots (createVolumePermission); the services ask it and handlers never decide themselves.
// What a grantee may learn follows EC2: that it can use the resource, never who else can.
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";

export interface Owned {
  id: string;
  ownerId: string;
}

export class Sharing {
  readonly #catalog: CatalogStore;

  constructor(catalog: CatalogStore) {
    this.#catalog = catalog;
  }

  /** Owner, an explicit permission for the account, or public. */
  async mayUse(resource: Owned, accountId: string): Promise<boolean> {
    if (resource.ownerId === accountId) return true;
    const grantees = await this.#catalog.permissions(resource.id);
    return grantees.includes(accountId) || grantees.includes("all");
  }

  /** The permission list; callers show it to the owner only. */
  grantees(resource: Owned): Promise<string[]> {
    return this.#catalog.permissions(resource.id);
  }

  change(resource: Owned, add: string[], remove: string[]): Promise<void> {
    return this.#catalog.changePermissions(resource.id, add, remove);
  }

  reset(resource: Owned): Promise<void> {
    return this.#catalog.resetPermissions(resource.id);
  }

  /** Ids of every public resource of the region (DescribeImages' is-public, Public). */
  publicIds(): Promise<Set<string>> {
    return this.#catalog.resourcesSharedWith(["all"]);
  }

  /**
   * DescribeImages' ExecutableUsers and DescribeSnapshots' RestorableByUserIds, as far as the caller
   * may know: `all` matches public resources; the caller's own id matches resources shared with it
   * explicitly (and, with `ownerCounts`, its own); another account's id matches only the caller's
   * own resources shared with that account, so nobody learns whom else an owner shares with.
   */
  async usableBy(resource: Owned, user: string, caller: string, ownerCounts: boolean): Promise<boolean> {
    const grantees = await this.#catalog.permissions(resource.id);
    if (user === "all") return grantees.includes("all");
    if (user === caller) {
      return (ownerCounts && resource.ownerId === caller) || grantees.includes(caller);
    }
    return resource.ownerId === caller && grantees.includes(user);
  }
}
