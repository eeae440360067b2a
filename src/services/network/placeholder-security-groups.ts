// Stands in for the security-group service until the lead wires the real one into Region
// (Region.useSecurityGroups): only the default group of each VPC, in memory.
import { randomBytes } from "node:crypto";
import { StrataError } from "../../errors.ts";
import type { SecurityGroupLookup } from "./contracts.ts";
import type { SecurityGroupRecord } from "./network-records.ts";

export class PlaceholderSecurityGroups implements SecurityGroupLookup {
  readonly #groups = new Map<string, SecurityGroupRecord>();

  async createDefaultGroup(ownerId: string, vpcId: string): Promise<SecurityGroupRecord> {
    const g: SecurityGroupRecord = {
      id: `sg-${randomBytes(9).toString("hex").slice(0, 17)}`,
      ownerId,
      vpcId,
      name: "default",
      description: "default VPC security group",
    };
    this.#groups.set(g.id, g);
    return g;
  }

  async resolveForLaunch(
    ownerId: string,
    vpcId: string,
    ids: string[] | undefined,
    names: string[] | undefined,
  ): Promise<SecurityGroupRecord[]> {
    const inVpc = [...this.#groups.values()].filter((g) => g.ownerId === ownerId && g.vpcId === vpcId);
    if (!ids?.length && !names?.length) return inVpc.filter((g) => g.name === "default");
    const wanted = [...(ids ?? []), ...(names ?? [])];
    const found = wanted.map((w) => inVpc.find((g) => g.id === w || g.name === w));
    if (found.some((g) => !g)) {
      throw new StrataError(
        "InvalidParameterValue",
        `Security groups ${wanted.join(", ")} are not all in ${vpcId}`,
      );
    }
    return found as SecurityGroupRecord[];
  }

  async groupsInVpc(vpcId: string): Promise<SecurityGroupRecord[]> {
    return [...this.#groups.values()].filter((g) => g.vpcId === vpcId);
  }

  async deleteGroupsOfVpc(vpcId: string): Promise<void> {
    for (const [id, g] of this.#groups) if (g.vpcId === vpcId) this.#groups.delete(id);
  }

  async byIds(ids: string[]): Promise<Map<string, SecurityGroupRecord>> {
    return new Map(ids.flatMap((id) => (this.#groups.has(id) ? [[id, this.#groups.get(id)!]] : [])));
  }
}
