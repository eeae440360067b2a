import { StrataError } from "../../errors.ts";

// The device names EC2 takes for EBS volumes on Linux instances: /dev/sd[a-z] with an optional
// partition number (1-15, as /dev/sda1 for many roots), /dev/xvd[a-z] and /dev/xvd[a-z][a-z],
// /dev/hd[a-z]; plus /dev/vd[a-z] for virtio guests.
const DEVICE_NAME =
  /^\/dev\/(sd[a-z]([1-9]|1[0-5])?|xvd[a-z]{1,2}|xvd[a-z]([1-9]|1[0-5])|hd[a-z]([1-9]|1[0-5])?|vd[a-z])$/;

export function isDeviceName(name: string): boolean {
  return DEVICE_NAME.test(name);
}

export function checkDeviceName(name: string): void {
  if (!isDeviceName(name)) {
    throw new StrataError(
      "InvalidDevice",
      `Value (${name}) for parameter device is invalid. ${name} is not a valid EBS device name.`,
    );
  }
}
