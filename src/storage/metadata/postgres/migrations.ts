// Versioned schema for one region's metadata in PostgreSQL. Append new versions; never edit an
// applied one. Version 1 is SQLite's schema as of its version 9 (sqlite/migrations.ts) in one
// step, with PostgreSQL's types: booleans for SQLite's 0/1 flags, jsonb for its JSON text, bigint
// for byte counts. Times stay text: the stores hand back the ISO strings exactly as written.
// Every text column collates "C" (byte order, as SQLite's BINARY), whatever the database's locale,
// so ORDER BY id, paging with `id > after` and LIKE match SQLite's.

import { hostsMigration, packsMigration, tunnelMigration } from "./migrations-later.ts";
import type { PgMigration } from "./pg-database.ts";

const T = `text COLLATE "C"`;

export const pgMigrations: PgMigration[] = [
  {
    version: 1,
    name: "the region's metadata as of SQLite schema version 9",
    sql: `
      CREATE TABLE volumes (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL DEFAULT '',
        size_gib integer NOT NULL,
        state ${T} NOT NULL,
        availability_zone ${T} NOT NULL,
        volume_type ${T} NOT NULL,
        iops integer, -- provisioned IOPS of io1/io2, NULL for the other types
        source_snapshot_id ${T},
        last_snapshot_id ${T},
        created_at ${T} NOT NULL,
        -- The volume row carries its attachment, so "in use" has one source of truth.
        attached_instance ${T},
        attached_device ${T},
        attached_at ${T},
        delete_on_termination boolean NOT NULL DEFAULT false
      );
      CREATE INDEX volumes_owner ON volumes (owner_id);
      CREATE INDEX volumes_attached ON volumes (attached_instance);
      -- A volume's base map; local = false while the block is still only in the block store.
      CREATE TABLE volume_blocks (
        volume_id ${T} NOT NULL,
        block bigint NOT NULL,
        chunk_hash ${T} NOT NULL,
        local boolean NOT NULL,
        PRIMARY KEY (volume_id, block)
      );
      CREATE INDEX volume_blocks_chunk ON volume_blocks (chunk_hash);
      -- Changed blocks: gen '' is the open set; a pending snapshot's id marks the set it froze.
      CREATE TABLE volume_dirty (
        volume_id ${T} NOT NULL,
        gen ${T} NOT NULL,
        block bigint NOT NULL,
        PRIMARY KEY (volume_id, gen, block)
      );
      CREATE TABLE snapshots (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL DEFAULT '',
        volume_id ${T},
        volume_size_gib integer NOT NULL,
        state ${T} NOT NULL,
        progress integer NOT NULL,
        parent_snapshot_id ${T},
        source_region ${T},
        source_snapshot_id ${T},
        description ${T} NOT NULL,
        started_at ${T} NOT NULL,
        completed_at ${T},
        state_message ${T},
        blocks_read bigint NOT NULL DEFAULT 0,
        bytes_stored bigint NOT NULL DEFAULT 0,
        bytes_transferred bigint NOT NULL DEFAULT 0,
        expires_at ${T}, -- an EBS direct snapshot's deadline while pending
        timeout_minutes integer
      );
      CREATE INDEX snapshots_state ON snapshots (state);
      CREATE INDEX snapshots_owner_id ON snapshots (owner_id, id);
      -- chunk_hash NULL = captured as zeros; rows pin chunks against GC.
      CREATE TABLE snapshot_blocks (
        snapshot_id ${T} NOT NULL,
        block bigint NOT NULL,
        chunk_hash ${T},
        PRIMARY KEY (snapshot_id, block)
      );
      CREATE INDEX snapshot_blocks_chunk ON snapshot_blocks (chunk_hash);
      CREATE TABLE chunks (
        hash ${T} PRIMARY KEY,
        stored_bytes bigint NOT NULL
      );
      CREATE TABLE images (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        name ${T} NOT NULL,
        state ${T} NOT NULL,
        creation_date ${T} NOT NULL,
        attributes jsonb NOT NULL -- everything else EC2 describes about an image
      );
      CREATE UNIQUE INDEX images_owner_name ON images (owner_id, name);
      CREATE INDEX images_owner_id ON images (owner_id, id);
      CREATE TABLE image_snapshots (
        image_id ${T} NOT NULL,
        snapshot_id ${T} NOT NULL,
        PRIMARY KEY (image_id, snapshot_id)
      );
      CREATE INDEX image_snapshots_snapshot ON image_snapshots (snapshot_id);
      -- launchPermission / createVolumePermission: an account id, or 'all' (public).
      CREATE TABLE permissions (
        resource_id ${T} NOT NULL,
        grantee ${T} NOT NULL,
        PRIMARY KEY (resource_id, grantee)
      );
      CREATE INDEX permissions_grantee ON permissions (grantee);
      CREATE TABLE tags (
        resource_id ${T} NOT NULL,
        key ${T} NOT NULL,
        value ${T} NOT NULL,
        PRIMARY KEY (resource_id, key)
      );
      CREATE INDEX tags_key ON tags (key, value);
      CREATE TABLE client_tokens (
        owner_id ${T} NOT NULL,
        token ${T} NOT NULL,
        action ${T} NOT NULL,
        request_hash ${T} NOT NULL,
        resource_id ${T} NOT NULL,
        PRIMARY KEY (owner_id, token)
      );
      CREATE TABLE instances (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        state ${T} NOT NULL,
        launched_at ${T} NOT NULL,
        attributes jsonb NOT NULL
      );
      CREATE INDEX instances_owner_id ON instances (owner_id, id);
      CREATE TABLE key_pairs (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        name ${T} NOT NULL,
        key_type ${T} NOT NULL,
        fingerprint ${T} NOT NULL,
        public_key ${T} NOT NULL,
        created_at ${T} NOT NULL,
        UNIQUE (owner_id, name)
      );
      CREATE TABLE vpcs (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        cidr ${T} NOT NULL,
        is_default boolean NOT NULL,
        created_at ${T} NOT NULL,
        group_ready boolean NOT NULL DEFAULT false -- its default security group exists
      );
      CREATE INDEX vpcs_owner_id ON vpcs (owner_id, id);
      CREATE UNIQUE INDEX vpcs_one_default ON vpcs (owner_id) WHERE is_default;
      CREATE TABLE subnets (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        vpc_id ${T} NOT NULL,
        cidr ${T} NOT NULL,
        availability_zone ${T} NOT NULL,
        map_public_ip boolean NOT NULL,
        default_for_az boolean NOT NULL
      );
      CREATE INDEX subnets_owner_id ON subnets (owner_id, id);
      CREATE INDEX subnets_vpc ON subnets (vpc_id);
      CREATE TABLE internet_gateways (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        vpc_id ${T}
      );
      CREATE INDEX internet_gateways_owner_id ON internet_gateways (owner_id, id);
      CREATE UNIQUE INDEX internet_gateways_one_per_vpc ON internet_gateways (vpc_id) WHERE vpc_id IS NOT NULL;
      CREATE TABLE route_tables (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        vpc_id ${T} NOT NULL,
        main boolean NOT NULL,
        routes jsonb NOT NULL -- [{destinationCidr, gatewayId}]
      );
      CREATE INDEX route_tables_owner_id ON route_tables (owner_id, id);
      CREATE INDEX route_tables_vpc ON route_tables (vpc_id);
      CREATE UNIQUE INDEX route_tables_one_main ON route_tables (vpc_id) WHERE main;
      CREATE TABLE route_table_associations (
        id ${T} PRIMARY KEY,
        route_table_id ${T} NOT NULL,
        subnet_id ${T} UNIQUE,
        main boolean NOT NULL
      );
      CREATE INDEX route_table_associations_table ON route_table_associations (route_table_id);
      CREATE TABLE network_interfaces (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        vpc_id ${T} NOT NULL,
        subnet_id ${T} NOT NULL,
        availability_zone ${T} NOT NULL,
        mac ${T} NOT NULL UNIQUE,
        private_ip ${T} NOT NULL,
        group_ids jsonb NOT NULL,
        public_ip ${T} UNIQUE,
        auto_public boolean NOT NULL,
        started boolean NOT NULL,
        instance_id ${T},
        attachment_id ${T},
        device_index integer NOT NULL,
        delete_on_termination boolean NOT NULL,
        description ${T} NOT NULL,
        UNIQUE (subnet_id, private_ip)
      );
      CREATE INDEX network_interfaces_owner_id ON network_interfaces (owner_id, id);
      CREATE INDEX network_interfaces_vpc ON network_interfaces (vpc_id);
      CREATE INDEX network_interfaces_instance ON network_interfaces (instance_id);
      CREATE TABLE addresses (
        allocation_id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        public_ip ${T} NOT NULL UNIQUE,
        association_id ${T} UNIQUE,
        network_interface_id ${T} UNIQUE,
        instance_id ${T},
        private_ip ${T}
      );
      CREATE INDEX addresses_owner_id ON addresses (owner_id, allocation_id);
      -- Names are unique per VPC, case-insensitively in ASCII (EC2; SQLite's NOCASE): lower()
      -- under "C" folds ASCII letters only.
      CREATE TABLE security_groups (
        id ${T} PRIMARY KEY,
        owner_id ${T} NOT NULL,
        vpc_id ${T} NOT NULL,
        name ${T} NOT NULL,
        description ${T} NOT NULL,
        created_at ${T} NOT NULL
      );
      CREATE UNIQUE INDEX security_groups_name ON security_groups (owner_id, vpc_id, lower(name));
      CREATE INDEX security_groups_vpc ON security_groups (vpc_id);
      -- One row per EC2 rule; seq keeps the order they were added (SQLite's rowid).
      CREATE TABLE security_group_rules (
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id ${T} PRIMARY KEY,
        group_id ${T} NOT NULL,
        owner_id ${T} NOT NULL,
        egress boolean NOT NULL,
        protocol ${T} NOT NULL,
        from_port integer NOT NULL,
        to_port integer NOT NULL,
        cidr ${T},
        referenced_group_id ${T},
        description ${T}
      );
      CREATE UNIQUE INDEX security_group_rules_identity ON security_group_rules
        (group_id, egress, protocol, from_port, to_port, coalesce(cidr, ''), coalesce(referenced_group_id, ''));
      CREATE INDEX security_group_rules_referenced ON security_group_rules (referenced_group_id);
    `,
  },
  // Chunks in packs: the same meaning as SQLite migration 10 (versions mean the same schema in both).
  packsMigration,
  hostsMigration,
  tunnelMigration,
];
