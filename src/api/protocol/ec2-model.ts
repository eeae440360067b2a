// The EC2 service model (botocore's, compacted by scripts/generate-ec2-model.ts), loaded once.
import { readFileSync } from "node:fs";

export type MemberRef = { shape: string; locationName?: string; queryName?: string; flattened?: boolean };
export type StructureShape = { type: "structure"; members: Record<string, MemberRef>; required?: string[] };
export type ListShape = { type: "list"; member: MemberRef; min?: number; max?: number; flattened?: boolean };
export type ScalarType =
  | "string"
  | "integer"
  | "long"
  | "boolean"
  | "double"
  | "float"
  | "timestamp"
  | "blob";
export type ScalarShape = {
  type: ScalarType;
  enum?: string[];
  min?: number;
  max?: number;
  timestampFormat?: string;
};
export type Shape = StructureShape | ListShape | ScalarShape;
export type Operation = { input?: string; output?: string };

type Ec2Model = {
  metadata: { apiVersion: string; xmlNamespace: string; source: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
};

const model: Ec2Model = JSON.parse(
  readFileSync(new URL("./ec2-model.generated.json", import.meta.url), "utf8"),
);

export const apiVersion = model.metadata.apiVersion;
export const xmlNamespace = model.metadata.xmlNamespace;

export function hasOperation(name: string): boolean {
  return Object.hasOwn(model.operations, name);
}

export function operationNames(): string[] {
  return Object.keys(model.operations);
}

export function getOperation(name: string): Operation {
  if (!hasOperation(name)) throw new Error(`EC2 model has no operation ${name}`);
  return model.operations[name];
}

export function getShape(name: string): Shape {
  const shape = model.shapes[name];
  if (!shape || !Object.hasOwn(model.shapes, name)) throw new Error(`EC2 model has no shape ${name}`);
  return shape;
}

/** The name a member has on the wire in a Query request: `TagSpecification`, `Filter`, `VolumeId`. */
export function queryName(memberName: string, ref: MemberRef): string {
  if (ref.queryName) return ref.queryName;
  if (ref.locationName) return ref.locationName[0].toUpperCase() + ref.locationName.slice(1);
  return memberName;
}

/** The element name a member has in an XML response: `volumeId`, `tagSet`. */
export function xmlName(memberName: string, ref: MemberRef): string {
  return ref.locationName ?? memberName;
}

const queryNameIndex = new Map<string, Map<string, string>>();

/** Wire name -> member name for a structure, built on first use. */
export function membersByQueryName(shapeName: string, shape: StructureShape): Map<string, string> {
  let index = queryNameIndex.get(shapeName);
  if (!index) {
    index = new Map(Object.entries(shape.members).map(([name, ref]) => [queryName(name, ref), name]));
    queryNameIndex.set(shapeName, index);
  }
  return index;
}
