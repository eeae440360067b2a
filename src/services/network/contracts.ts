// The seams between the network model's services (VPCs and interfaces; security groups) and the
// instance service, so each side is built and tested on its own.
import type { SecurityGroupRecord, VpcRecord } from "./network-records.ts";

/** What the security-group service needs to know of VPCs (implemented by VpcService). */
export interface VpcLookup {
  /** The caller's VPC, or InvalidVpcID.NotFound (another account's VPC does not exist for it). */
  vpc(ownerId: string, vpcId: string): Promise<VpcRecord>;
  /** The account's default VPC in this region, created on first use (with its subnets and group). */
  defaultVpc(ownerId: string): Promise<VpcRecord>;
}

/**
 * The region lock DeleteVpc holds from its check for security groups to the VPC's delete, and
 * group creation from its VPC lookup to the insert: a group never lands in a VPC being deleted.
 */
export const vpcLockName = (region: string, vpcId: string) => `vpc:${region}:${vpcId}`;

/** One instance interface's place in the network, as group-to-group rules resolve it. */
export interface GroupMember {
  networkInterfaceId: string;
  instanceId: string | null;
  vpcId: string;
  privateIp: string;
  groupIds: string[];
}

/** What the security-group service needs to know of interfaces (implemented by the interface store). */
export interface GroupMembership {
  /** Interfaces that have any of these groups. */
  membersOf(groupIds: string[]): Promise<GroupMember[]>;
}

/** What VPCs, interfaces and launches need of security groups (implemented by SecurityGroupService). */
export interface SecurityGroupLookup {
  /** EC2 creates a group named "default" with each VPC: all traffic from members, all egress. */
  createDefaultGroup(ownerId: string, vpcId: string): Promise<SecurityGroupRecord>;
  /**
   * RunInstances' groups: ids (must be the caller's and in `vpcId`: InvalidGroup.NotFound /
   * InvalidParameter), names (default VPC only, as EC2), or the VPC's default group when neither.
   */
  resolveForLaunch(
    ownerId: string,
    vpcId: string,
    ids: string[] | undefined,
    names: string[] | undefined,
  ): Promise<SecurityGroupRecord[]>;
  /** Every group of the VPC (DeleteVpc: DependencyViolation while any but the default remains). */
  groupsInVpc(vpcId: string): Promise<SecurityGroupRecord[]>;
  /** DeleteVpc removes the default group with the VPC. */
  deleteGroupsOfVpc(vpcId: string): Promise<void>;
  /** Group records by id (DescribeInstances' SecurityGroups names). */
  byIds(ids: string[]): Promise<Map<string, SecurityGroupRecord>>;
}
