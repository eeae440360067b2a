// Images whose snapshots are still pending: each is watched until its snapshots settle, then
// turns `available` (all completed) or `failed`; the state changes only from `pending`, so a
// deregistration meanwhile is never undone.
import type { CatalogStore, ImageRecord } from "../../storage/metadata/catalog-store.ts";
import type { SnapshotService } from "../snapshots/snapshot-service.ts";

export class PendingImages {
  readonly #catalog: CatalogStore;
  readonly #snapshots: SnapshotService;
  readonly #watching = new Map<string, Promise<void>>();

  constructor(catalog: CatalogStore, snapshots: SnapshotService) {
    this.#catalog = catalog;
    this.#snapshots = snapshots;
  }

  /** Resolves when the image is no longer being watched. */
  async settled(id: string): Promise<void> {
    await this.#watching.get(id);
  }

  watch(image: ImageRecord): void {
    const id = image.id;
    if (this.#watching.has(id)) return;
    const done = (async () => {
      const ids = image.blockDeviceMappings.flatMap((m) => (m.ebs?.snapshotId ? [m.ebs.snapshotId] : []));
      const results = await Promise.all(ids.map((s) => this.#settled(s)));
      // A snapshot that does not exist fails the image too (a CreateImage or CopyImage cut off
      // by a crash before it created every snapshot the image names).
      const failed = results.findIndex((s) => s?.state !== "completed");
      if (failed === -1) {
        await this.#catalog.setImageState(id, "pending", "available");
      } else {
        await this.#catalog.setImageState(id, "pending", "failed", {
          code: "Client.SnapshotError",
          message: results[failed]
            ? `Snapshot ${ids[failed]} failed: ${results[failed].stateMessage ?? "error"}`
            : `Snapshot ${ids[failed]} was never created (the Strata daemon stopped first)`,
        });
      }
    })()
      .catch((e: Error) => console.error(`image ${id}: ${e.message}`))
      .finally(() => this.#watching.delete(id));
    this.#watching.set(id, done);
  }

  /**
   * The snapshot once it is no longer pending (undefined if deleted). Snapshots written through
   * the EBS APIs have no job to wait for: they are polled until completed or timed out.
   */
  async #settled(snapshotId: string) {
    for (;;) {
      const s = await this.#snapshots.wait(snapshotId).catch(() => undefined);
      if (s?.state !== "pending") return s;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** After a restart: keep watching images whose snapshots were still pending. */
  async resume(): Promise<void> {
    for (const image of await this.#catalog.listImages()) if (image.state === "pending") this.watch(image);
  }
}
