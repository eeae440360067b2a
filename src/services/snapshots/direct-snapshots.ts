import type { BlockStore } from "../../storage/chunks/block-store.ts";
import type { CatalogStore } from "../../storage/metadata/catalog-store.ts";
import type { MetadataStore } from "../../storage/metadata/metadata-store.ts";
import type { Sharing } from "../access/sharing.ts";
import { RegionQuotas } from "../quotas/region-quotas.ts";
import type { BlockTokens } from "./block-tokens.ts";
import { DirectSnapshotAccess } from "./direct-snapshot-access.ts";
import { DirectSnapshotReads } from "./direct-snapshot-reads.ts";
import { DirectSnapshotWrites } from "./direct-snapshot-writes.ts";

/**
 * Snapshots written block by block (the EBS direct APIs): a client starts one (optionally on a
 * parent, whose blocks it inherits), puts 512 KiB blocks with their SHA-256, and completes it.
 * Blocks go through the same reference protocol as every other snapshot, so they deduplicate and
 * are safe against concurrent deletes; the verified client checksum is the chunk key.
 */
export class DirectSnapshots {
  readonly writes: DirectSnapshotWrites;
  readonly reads: DirectSnapshotReads;

  constructor(
    region: string,
    meta: MetadataStore,
    catalog: CatalogStore,
    blocks: BlockStore,
    tokens: BlockTokens,
    sharing: Sharing,
    quotas = RegionQuotas.none(region),
  ) {
    const access = new DirectSnapshotAccess(meta, sharing);
    this.writes = new DirectSnapshotWrites(region, meta, catalog, blocks, quotas, access);
    this.reads = new DirectSnapshotReads(meta, blocks, tokens, access);
  }
}
