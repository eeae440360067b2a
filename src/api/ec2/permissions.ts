import type { CreateVolumePermission, LaunchPermission } from "@aws-sdk/client-ec2";
import { StrataError } from "../../errors.ts";

type Permission = LaunchPermission | CreateVolumePermission;

/**
 * Grantees named by a Modify*Attribute call, from both forms EC2 accepts: the structured
 * Add/Remove lists and the older OperationType + UserIds/UserGroups. 'all' is the public group.
 */
export function permissionChanges(
  structured: { Add?: Permission[]; Remove?: Permission[] } | undefined,
  legacy: { OperationType?: string; UserIds?: string[]; UserGroups?: string[] },
  attributeValueError: "InvalidAMIAttributeItemValue" | "InvalidParameterValue",
): { add: string[]; remove: string[] } {
  const grantee = (p: Permission): string => {
    if (p.Group !== undefined) {
      if (p.Group !== "all")
        throw new StrataError("InvalidParameterValue", `Invalid group '${p.Group}': only 'all'`);
      return "all";
    }
    const user = p.UserId ?? "";
    if (!/^\d{12}$/.test(user)) {
      const message = `Invalid user id '${user}': an account id is 12 digits`;
      throw attributeValueError === "InvalidAMIAttributeItemValue"
        ? new StrataError("InvalidAMIAttributeItemValue", message)
        : new StrataError("InvalidParameterValue", message);
    }
    return user;
  };
  const add = (structured?.Add ?? []).map(grantee);
  const remove = (structured?.Remove ?? []).map(grantee);
  const legacyList = [
    ...(legacy.UserIds ?? []).map((UserId) => grantee({ UserId })),
    ...(legacy.UserGroups ?? []).map((Group) => grantee({ Group: Group as "all" })),
  ];
  if (legacyList.length) {
    if (legacy.OperationType === "add") add.push(...legacyList);
    else if (legacy.OperationType === "remove") remove.push(...legacyList);
    else throw new StrataError("MissingParameter", "The request must contain the parameter OperationType");
  }
  return { add, remove };
}

export function toPermissions(grantees: string[]): { UserId?: string; Group?: "all" }[] {
  return grantees.map((g) => (g === "all" ? { Group: "all" as const } : { UserId: g }));
}
