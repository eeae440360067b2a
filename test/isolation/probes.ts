// The vocabulary of the isolation suite: the accounts of a test world, the ids of account A's
// resources it points probes at, and a probe (one way an action takes an id).
import type { EBSClient } from "@aws-sdk/client-ebs";
import type { EC2Client, Filter } from "@aws-sdk/client-ec2";
import type { Daemon } from "../daemon.ts";
import type { Account } from "../ec2-helpers.ts";

/**
 * The kinds of id an action can take. Key pairs are named by name or by id, security groups too
 * (names where EC2 takes them); an Elastic IP by allocation id, association id or public address.
 */
export const KINDS = [
  "volume",
  "snapshot",
  "image",
  "instance",
  "keyName",
  "keyId",
  "vpc",
  "subnet",
  "internetGateway",
  "routeTable",
  "routeTableAssociation",
  "securityGroup",
  "securityGroupName",
  "securityGroupRule",
  "allocation",
  "eipAssociation",
  "publicIp",
  "networkInterface",
] as const;

export type Kind = (typeof KINDS)[number];

/** B's own network, which probes pass beside A's ids (B's gateway to A's VPC, ...). */
export interface BNetwork {
  vpcId: string;
  subnetId: string;
  /** Not attached to anything. */
  gatewayId: string;
  routeTableId: string;
  groupId: string;
  /** The group's own rule (the egress to anywhere every new group has). */
  ruleId: string;
  allocationId: string;
}

/** One of A's ids in one state (private, shared then unshared, deleted, ...), as B may know it. */
export interface Target {
  kind: Kind;
  state: string;
  id: string;
  /** A snapshot B may not read, backing an image B may launch (B sees its id in the image). */
  backsSharedImage?: boolean;
  /** For GetSnapshotBlock: a block of the snapshot and the token A was given for it. */
  block?: { index: number; token: string };
}

/** An account with its clients: EC2 in both regions, EBS direct in us-east-1. */
export interface Party {
  account: Account;
  ec2: EC2Client;
  ec2Eu: EC2Client;
  ebs: EBSClient;
}

export interface World {
  daemon: Daemon;
  dataDir: string;
  /** A owns every target; B probes them; C is a third account (shares, copies). */
  a: Party;
  b: Party;
  c: Party;
  targets: Target[];
  /** B's own resources, which probes pass beside A's id (attach B's volume to A's instance, ...). */
  bOwn: { volumeId: string; snapshotId: string; imageId: string };
  bNet: BNetwork;
  /** B's own running instance, where the world has one (probes that change an instance of B's). */
  bInstanceId?: string;
  /**
   * Strings no answer to a probe may contain (beside the probed id itself): A's and C's account
   * ids, A's alias and tag values, the ids of A's targets.
   */
  secrets: string[];
}

/**
 * One way an action takes an id of `kind`: `call` sends the request as B with `id` in the place
 * `what` names; everything else in the request is the same whatever the id, so the answer for
 * A's id can be compared with the answer for an id that never existed. A call that succeeds
 * returns what of the answer is comparable (generated keys differ every time).
 */
export interface Probe {
  kind: Kind;
  what: string;
  call(w: World, id: string, target: Target): Promise<unknown>;
  /** The targets the probe applies to, when not all of its kind (see where it is set for why). */
  appliesTo?: (t: Target, w: World) => boolean;
  /** Undo what a successful call created in B's own account (CreateKeyPair with A's key name). */
  cleanup?(w: World, id: string): Promise<void>;
}

export const probe = (kind: Kind, what: string, call: Probe["call"], cleanup?: Probe["cleanup"]): Probe => ({
  kind,
  what,
  call,
  cleanup,
});

/** A filter on one value. */
export const filter = (Name: string, id: string): Filter[] => [{ Name, Values: [id] }];

/** One probe per filter name: `send` gets the filter naming the id. */
export const filterProbes = (
  kind: Kind,
  names: string[],
  send: (w: World, filters: Filter[]) => Promise<unknown>,
): Probe[] => names.map((name) => probe(kind, `Filter ${name}`, (w, id) => send(w, filter(name, id))));
