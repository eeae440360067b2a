import { randomBytes } from "node:crypto";

// EC2 ids are a prefix and 17 lowercase hex digits (e.g. snap-0123456789abcdef0).
export type IdPrefix = "vol" | "snap" | "ami" | "i" | "r" | "key" | "sg" | "sgr" | NetworkIdPrefix;
// The network model's (VPCs and interfaces).
export type NetworkIdPrefix =
  | "vpc"
  | "subnet"
  | "igw"
  | "rtb"
  | "rtbassoc"
  | "eni"
  | "eni-attach"
  | "eipalloc"
  | "eipassoc";

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`).test(value);
}
