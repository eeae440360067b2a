// TEMPORARY (branch h-groups only): stand-ins for the VPC service and the interface store, so the
// security-group service runs and is tested end to end before they exist. The lead replaces both
// with the real VpcService / interface store when merging issue 10's parts.
import { createHash } from "node:crypto";
import { StrataError } from "../../errors.ts";
import type { GroupMember, GroupMembership, SecurityGroupLookup, VpcLookup } from "./contracts.ts";
import type { VpcRecord } from "./network-records.ts";

/**
 * TemporaryVpcLookup: every account has exactly one VPC, its default VPC (172.31.0.0/16), with
 * an id derived from region and account; its default security group is created on first use.
 * Any other VPC id is InvalidVpcID.NotFound.
 */
export class TemporaryVpcLookup implements VpcLookup {
  readonly #region: string;
  readonly #groups: () => SecurityGroupLookup;

  constructor(region: string, groups: () => SecurityGroupLookup) {
    this.#region = region;
    this.#groups = groups;
  }

  #record(ownerId: string): VpcRecord {
    const hex = createHash("sha256").update(`${this.#region}/${ownerId}`).digest("hex").slice(0, 17);
    return { id: `vpc-${hex}`, ownerId, cidr: "172.31.0.0/16", isDefault: true, createdAt: "" };
  }

  async vpc(ownerId: string, vpcId: string): Promise<VpcRecord> {
    const vpc = this.#record(ownerId);
    if (vpc.id !== vpcId)
      throw new StrataError("InvalidVpcID.NotFound", `The vpc ID '${vpcId}' does not exist`);
    return vpc;
  }

  async defaultVpc(ownerId: string): Promise<VpcRecord> {
    const vpc = this.#record(ownerId);
    await this.#groups().createDefaultGroup(ownerId, vpc.id);
    return vpc;
  }
}

/** TemporaryGroupMembership: no interfaces exist yet, so no group has members. */
export class TemporaryGroupMembership implements GroupMembership {
  async membersOf(_groupIds: string[]): Promise<GroupMember[]> {
    return [];
  }
}
