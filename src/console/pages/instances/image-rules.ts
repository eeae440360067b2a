// EC2's rules for CreateImage's inputs, checked in the form before the API refuses them.
import type { Tag } from "@aws-sdk/client-ec2";

// EC2: AMI names are 3-128 characters of letters, digits and ( ) [ ] space . / - ' @ _
// (the same rule the daemon applies, src/services/images/image-rules.ts).
const AMI_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;

export function imageNameError(name: string): string | undefined {
  if (name.length === 0) return "Enter a name";
  if (name.length < 3 || name.length > 128) return "Must be 3 to 128 characters long";
  if (!AMI_NAME.test(name)) return "Only letters, numbers, spaces and ( ) [ ] . / - ' @ _ are allowed";
  return undefined;
}

export function imageDescriptionError(description: string): string | undefined {
  return description.length > 255 ? "At most 255 characters" : undefined;
}

/** EC2's tag rules: a key of 1-128 characters not starting with aws:, a value of up to 256. */
export function tagKeyError(tag: Tag, all: readonly Tag[]): string | undefined {
  const key = tag.Key ?? "";
  if (key.length === 0) return "Enter a key";
  if (key.length > 128) return "At most 128 characters";
  if (key.toLowerCase().startsWith("aws:")) return "Keys starting with aws: are reserved";
  if (all.filter((t) => t.Key === key).length > 1) return "Keys must be unique";
  return undefined;
}

export function tagValueError(tag: Tag): string | undefined {
  return (tag.Value ?? "").length > 256 ? "At most 256 characters" : undefined;
}
