// Which instance type may run which image. EC2 refuses a type whose processor cannot run the
// image's architecture with InvalidParameterValue and the message below; Strata's guests are
// x86_64 only, so an arm64 type is refused the same way (with why) whatever the image.
import { type InstanceTypeInfo, instanceType, launchable } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";

/** The type named, if Strata can run it: InvalidInstanceType when unknown, InvalidParameterValue for arm64. */
export function runnableType(name: string): InstanceTypeInfo {
  const type = instanceType(name);
  if (!type) {
    throw new StrataError(
      "InvalidInstanceType",
      `The instance type '${name}' does not exist or is not one Strata offers (DescribeInstanceTypes lists them).`,
    );
  }
  if (!launchable(type)) {
    throw new StrataError(
      "InvalidParameterValue",
      `The instance type '${name}' is ${type.architecture}: ${type.architecture} instance types are not supported yet: Strata runs x86_64 images only. Use an x86_64 type such as t3.micro or m7i.large.`,
    );
  }
  return type;
}

/** EC2's answer when the image's architecture is not one the type's processor runs. */
export function checkArchitecture(type: InstanceTypeInfo, imageArchitecture: string): void {
  if ((type.architectures as string[]).includes(imageArchitecture)) return;
  throw new StrataError(
    "InvalidParameterValue",
    `The architecture '${type.architecture}' of the specified instance type does not match the architecture '${imageArchitecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.`,
  );
}
