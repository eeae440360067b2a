// The AMI actions the list and the details page share: "Launch instance from AMI" and the
// "Actions" menu (copy, permissions, deregister, deprecation, deregistration protection), each in
// its own modal. As in the AWS console, only the owner may change an image; anyone who may
// launch it may copy it.
import type { Image } from "@aws-sdk/client-ec2";
import Button from "@cloudscape-design/components/button";
import ButtonDropdown from "@cloudscape-design/components/button-dropdown";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useState } from "react";
import { useNavigate } from "react-router";
import { CopyImageModal } from "./CopyImageModal.tsx";
import { DeprecationModal } from "./DeprecationModal.tsx";
import { DeregisterModal } from "./DeregisterModal.tsx";
import { PermissionsModal } from "./PermissionsModal.tsx";
import { ProtectionModal } from "./ProtectionModal.tsx";

type Open = "copy" | "permissions" | "deregister" | "deprecation" | "protection";

export function ImageActions(p: { image: Image | undefined; owned: boolean; onDeregistered?(): void }) {
  const navigate = useNavigate();
  const [open, setOpen] = useState<Open>();
  const image = p.image;
  const available = image?.State === "available";
  const protectionOn = (image?.DeregistrationProtection ?? "disabled").startsWith("enabled");
  const ownerOnly = !image ? "Select one AMI." : !p.owned ? "Only the AMI's owner can do this." : undefined;
  const close = () => setOpen(undefined);
  return (
    <>
      <SpaceBetween direction="horizontal" size="xs">
        <Button
          disabled={!available}
          disabledReason={image ? "Only an available AMI can be launched." : "Select one AMI."}
          onClick={() => image && navigate(`/launch?imageId=${encodeURIComponent(image.ImageId ?? "")}`)}
        >
          Launch instance from AMI
        </Button>
        <ButtonDropdown
          disabled={!image}
          disabledReason="Select one AMI."
          onItemClick={(e) => setOpen(e.detail.id as Open)}
          items={[
            {
              id: "copy",
              text: "Copy AMI",
              disabled: !available,
              disabledReason: "Only an available AMI can be copied.",
            },
            {
              id: "permissions",
              text: "Edit AMI permissions",
              disabled: !!ownerOnly,
              disabledReason: ownerOnly,
            },
            { id: "deregister", text: "Deregister AMI", disabled: !!ownerOnly, disabledReason: ownerOnly },
            {
              id: "deprecation",
              text: "Manage AMI deprecation",
              disabled: !!ownerOnly,
              disabledReason: ownerOnly,
            },
            {
              id: "protection",
              text: protectionOn ? "Disable deregistration protection" : "Enable deregistration protection",
              disabled: !!ownerOnly,
              disabledReason: ownerOnly,
            },
          ]}
        >
          Actions
        </ButtonDropdown>
      </SpaceBetween>
      {image && open === "copy" && <CopyImageModal image={image} onClose={close} />}
      {image && open === "permissions" && <PermissionsModal image={image} onClose={close} />}
      {image && open === "deregister" && (
        <DeregisterModal image={image} onClose={close} onDeregistered={() => p.onDeregistered?.()} />
      )}
      {image && open === "deprecation" && <DeprecationModal image={image} onClose={close} />}
      {image && open === "protection" && (
        <ProtectionModal image={image} enable={!protectionOn} onClose={close} />
      )}
    </>
  );
}
