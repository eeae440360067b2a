// Versioned schema for one region's metadata. Append new versions; never edit an applied one.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: "volumes, snapshots, block maps, chunk index",
    sql: `
      CREATE TABLE volumes (
        id TEXT PRIMARY KEY,
        size_gib INTEGER NOT NULL,
        state TEXT NOT NULL,
        availability_zone TEXT NOT NULL,
        volume_type TEXT NOT NULL,
        source_snapshot_id TEXT,
        last_snapshot_id TEXT,
        created_at TEXT NOT NULL
      );
      -- A volume's base map: the content of each non-zero block as of its last snapshot (or the
      -- snapshot it was restored from). local = 0 while the block is still only in the block store.
      CREATE TABLE volume_blocks (
        volume_id TEXT NOT NULL,
        block INTEGER NOT NULL,
        chunk_hash TEXT NOT NULL,
        local INTEGER NOT NULL,
        PRIMARY KEY (volume_id, block)
      ) WITHOUT ROWID;
      CREATE INDEX volume_blocks_chunk ON volume_blocks (chunk_hash);
      -- Changed blocks: gen '' is the open set; a pending snapshot's id marks the set it froze.
      CREATE TABLE volume_dirty (
        volume_id TEXT NOT NULL,
        gen TEXT NOT NULL,
        block INTEGER NOT NULL,
        PRIMARY KEY (volume_id, gen, block)
      ) WITHOUT ROWID;
      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        volume_id TEXT,
        volume_size_gib INTEGER NOT NULL,
        state TEXT NOT NULL,
        progress INTEGER NOT NULL,
        parent_snapshot_id TEXT,
        source_region TEXT,
        source_snapshot_id TEXT,
        description TEXT NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT,
        state_message TEXT,
        blocks_read INTEGER NOT NULL DEFAULT 0,
        bytes_stored INTEGER NOT NULL DEFAULT 0,
        bytes_transferred INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX snapshots_state ON snapshots (state);
      -- A snapshot's full block map (every non-zero block). While pending, rows are the blocks
      -- captured so far (chunk_hash NULL = captured as zeros); they also pin chunks against GC.
      CREATE TABLE snapshot_blocks (
        snapshot_id TEXT NOT NULL,
        block INTEGER NOT NULL,
        chunk_hash TEXT,
        PRIMARY KEY (snapshot_id, block)
      ) WITHOUT ROWID;
      CREATE INDEX snapshot_blocks_chunk ON snapshot_blocks (chunk_hash);
      -- Chunks present in this region's block store (a row exists only once the bytes are durable).
      CREATE TABLE chunks (
        hash TEXT PRIMARY KEY,
        stored_bytes INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: "accounts own resources; images, sharing, tags, idempotency tokens",
    sql: `
      ALTER TABLE volumes ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE snapshots ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
      CREATE INDEX snapshots_owner ON snapshots (owner_id);
      CREATE INDEX volumes_owner ON volumes (owner_id);
      CREATE TABLE images (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        name TEXT NOT NULL,
        state TEXT NOT NULL,
        creation_date TEXT NOT NULL,
        -- Everything else EC2 describes about an image (architecture, block device mappings, ...).
        attributes TEXT NOT NULL
      );
      CREATE UNIQUE INDEX images_owner_name ON images (owner_id, name);
      -- Snapshots an image's block device mappings use: DeleteSnapshot refuses them (InUse).
      CREATE TABLE image_snapshots (
        image_id TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        PRIMARY KEY (image_id, snapshot_id)
      ) WITHOUT ROWID;
      CREATE INDEX image_snapshots_snapshot ON image_snapshots (snapshot_id);
      -- launchPermission / createVolumePermission: an account id, or 'all' (public).
      CREATE TABLE permissions (
        resource_id TEXT NOT NULL,
        grantee TEXT NOT NULL,
        PRIMARY KEY (resource_id, grantee)
      ) WITHOUT ROWID;
      CREATE INDEX permissions_grantee ON permissions (grantee);
      CREATE TABLE tags (
        resource_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (resource_id, key)
      ) WITHOUT ROWID;
      CREATE INDEX tags_key ON tags (key, value);
      -- ClientToken idempotency (CopyImage, ...): same account + token -> same result.
      CREATE TABLE client_tokens (
        owner_id TEXT NOT NULL,
        token TEXT NOT NULL,
        action TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        PRIMARY KEY (owner_id, token)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "snapshots written block by block through the EBS direct APIs",
    sql: `
      -- Set while such a snapshot is pending: past it, the snapshot times out to error.
      ALTER TABLE snapshots ADD COLUMN expires_at TEXT;
    `,
  },
  {
    version: 4,
    name: "owner + id indexes, so an owner's page is read in id order without sorting",
    sql: `
      CREATE INDEX snapshots_owner_id ON snapshots (owner_id, id);
      CREATE INDEX images_owner_id ON images (owner_id, id);
      DROP INDEX snapshots_owner;
    `,
  },
  {
    version: 5,
    name: "EBS snapshot timeouts count from the last block written",
    sql: "ALTER TABLE snapshots ADD COLUMN timeout_minutes INTEGER;",
  },
  {
    version: 6,
    name: "instances, key pairs, volume attachments",
    sql: `
      -- The volume row carries its attachment, so "in use" has one source of truth.
      ALTER TABLE volumes ADD COLUMN attached_instance TEXT;
      ALTER TABLE volumes ADD COLUMN attached_device TEXT;
      ALTER TABLE volumes ADD COLUMN attached_at TEXT;
      ALTER TABLE volumes ADD COLUMN delete_on_termination INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX volumes_attached ON volumes (attached_instance);
      CREATE TABLE instances (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        state TEXT NOT NULL,
        launched_at TEXT NOT NULL,
        attributes TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX instances_owner_id ON instances (owner_id, id);
      CREATE TABLE key_pairs (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        name TEXT NOT NULL,
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        public_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (owner_id, name)
      );
    `,
  },
  {
    version: 7,
    name: "provisioned IOPS of io1/io2 volumes",
    // NULL for the other types (their IOPS follow from type and size); the IOPS quotas sum it.
    sql: "ALTER TABLE volumes ADD COLUMN iops INTEGER;",
  },
  {
    version: 8,
    name: "the EC2 network model: VPCs, subnets, gateways, route tables, interfaces, Elastic IPs",
    sql: `
      -- group_ready: the VPC's default security group exists (it lives in the groups' own store,
      -- so a crash between the two commits leaves 0, and start-up completes it).
      CREATE TABLE vpcs (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        cidr TEXT NOT NULL,
        is_default INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        group_ready INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX vpcs_owner_id ON vpcs (owner_id, id);
      CREATE UNIQUE INDEX vpcs_one_default ON vpcs (owner_id) WHERE is_default = 1;
      CREATE TABLE subnets (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        cidr TEXT NOT NULL,
        availability_zone TEXT NOT NULL,
        map_public_ip INTEGER NOT NULL,
        default_for_az INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX subnets_owner_id ON subnets (owner_id, id);
      CREATE INDEX subnets_vpc ON subnets (vpc_id);
      CREATE TABLE internet_gateways (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        vpc_id TEXT
      ) WITHOUT ROWID;
      CREATE INDEX internet_gateways_owner_id ON internet_gateways (owner_id, id);
      CREATE UNIQUE INDEX internet_gateways_one_per_vpc ON internet_gateways (vpc_id) WHERE vpc_id IS NOT NULL;
      -- routes: JSON array of {destinationCidr, gatewayId}.
      CREATE TABLE route_tables (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        main INTEGER NOT NULL,
        routes TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX route_tables_owner_id ON route_tables (owner_id, id);
      CREATE INDEX route_tables_vpc ON route_tables (vpc_id);
      CREATE UNIQUE INDEX route_tables_one_main ON route_tables (vpc_id) WHERE main = 1;
      -- A subnet has at most one explicit association; the main table's own has no subnet.
      CREATE TABLE route_table_associations (
        id TEXT PRIMARY KEY,
        route_table_id TEXT NOT NULL,
        subnet_id TEXT UNIQUE,
        main INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX route_table_associations_table ON route_table_associations (route_table_id);
      -- auto_public: launched with an auto-assigned public address (EC2 gives a new one at each
      -- start); started: the instance is not stopped (so the address is held).
      CREATE TABLE network_interfaces (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        subnet_id TEXT NOT NULL,
        availability_zone TEXT NOT NULL,
        mac TEXT NOT NULL UNIQUE,
        private_ip TEXT NOT NULL,
        group_ids TEXT NOT NULL,
        public_ip TEXT UNIQUE,
        auto_public INTEGER NOT NULL,
        started INTEGER NOT NULL,
        instance_id TEXT,
        attachment_id TEXT,
        device_index INTEGER NOT NULL,
        delete_on_termination INTEGER NOT NULL,
        description TEXT NOT NULL,
        UNIQUE (subnet_id, private_ip)
      ) WITHOUT ROWID;
      CREATE INDEX network_interfaces_owner_id ON network_interfaces (owner_id, id);
      CREATE INDEX network_interfaces_vpc ON network_interfaces (vpc_id);
      CREATE INDEX network_interfaces_instance ON network_interfaces (instance_id);
      CREATE TABLE addresses (
        allocation_id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        public_ip TEXT NOT NULL UNIQUE,
        association_id TEXT UNIQUE,
        network_interface_id TEXT UNIQUE,
        instance_id TEXT,
        private_ip TEXT
      ) WITHOUT ROWID;
      CREATE INDEX addresses_owner_id ON addresses (owner_id, allocation_id);
    `,
  },
  {
    version: 9,
    name: "security groups and their rules",
    sql: `
      -- Names are unique per VPC, case-insensitively (EC2).
      CREATE TABLE security_groups (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX security_groups_name ON security_groups (owner_id, vpc_id, name COLLATE NOCASE);
      CREATE INDEX security_groups_vpc ON security_groups (vpc_id);
      -- One row per EC2 rule (one CIDR or one referenced group); rowid keeps the order they were added.
      CREATE TABLE security_group_rules (
        id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        egress INTEGER NOT NULL,
        protocol TEXT NOT NULL,
        from_port INTEGER NOT NULL,
        to_port INTEGER NOT NULL,
        cidr TEXT,
        referenced_group_id TEXT,
        description TEXT
      );
      CREATE UNIQUE INDEX security_group_rules_identity ON security_group_rules
        (group_id, egress, protocol, from_port, to_port, ifnull(cidr, ''), ifnull(referenced_group_id, ''));
      CREATE INDEX security_group_rules_referenced ON security_group_rules (referenced_group_id);
    `,
  },
  {
    version: 10,
    name: "chunks in packs",
    sql: `
      -- Where each chunk's bytes are: a range of a pack (NULL pack: a chunk file of its own, as
      -- stored before packs existed).
      ALTER TABLE chunks ADD COLUMN pack TEXT;
      ALTER TABLE chunks ADD COLUMN pack_offset INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX chunks_pack ON chunks (pack);
      -- A row before the pack's put begins ('writing'), sealed once durable; at: ms since the epoch
      -- of the latest of the two, from which the GC's grace period counts. recorded counts the
      -- chunks whose writers are done with them (rows added or found): once it reaches chunks, no
      -- row can appear any more, so a pack emptied by deletes can go at once.
      CREATE TABLE packs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        chunks INTEGER NOT NULL DEFAULT 0,
        recorded INTEGER NOT NULL DEFAULT 0,
        at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 11,
    name: "several hosts per region",
    sql: `
      -- The Strata hosts serving the region: where to reach each (its API URL), the zone it runs
      -- instances in (NULL: every zone), its room, and its heartbeat (ms since the epoch). state:
      -- 'alive', or 'lost' once another host found its heartbeat too old.
      CREATE TABLE hosts (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        zone TEXT,
        free_vcpus INTEGER NOT NULL,
        free_memory_mib INTEGER NOT NULL,
        state TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- The host whose disk holds the volume's data (NULL: made before hosts were recorded).
      ALTER TABLE volumes ADD COLUMN host TEXT;
      -- The host running a pending snapshot's job: only it resumes the job after a restart.
      ALTER TABLE snapshots ADD COLUMN host TEXT;
    `,
  },
  {
    version: 12,
    name: "VPC traffic between hosts",
    sql: `
      -- Where other hosts send this host's VXLAN packets ("address:port"; NULL: no tunnel, its
      -- instances reach only instances of the same host).
      ALTER TABLE hosts ADD COLUMN tunnel TEXT;
    `,
  },
];
