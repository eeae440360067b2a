// Actions > Enable / Disable deregistration protection. Enabling may add EC2's 24-hour cooldown:
// once disabled, the AMI then stays protected for another 24 hours ("disabled-until <time>").
import type { Image } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Checkbox from "@cloudscape-design/components/checkbox";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { disableProtection, enableProtection } from "../../api/images.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2 } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { useInvalidateImages } from "./hooks.ts";
import { ModalError } from "./ModalError.tsx";

export function ProtectionModal({
  image,
  enable,
  onClose,
}: {
  image: Image;
  enable: boolean;
  onClose(): void;
}) {
  const ec2 = useEc2();
  const { notify } = useNotify();
  const invalidate = useInvalidateImages();
  const id = image.ImageId ?? "";
  const [cooldown, setCooldown] = useState(false);
  const change = useMutation({
    mutationFn: () => (enable ? enableProtection(ec2, id, cooldown) : disableProtection(ec2, id)),
    onSuccess: async (state) => {
      notify({ type: "success", header: `Deregistration protection of ${id}: ${state}` });
      await invalidate();
      onClose();
    },
  });
  return (
    <ConfirmModal
      visible
      title={`${enable ? "Enable" : "Disable"} deregistration protection: ${id}`}
      confirmLabel={enable ? "Enable protection" : "Disable protection"}
      busy={change.isPending}
      onConfirm={() => change.mutate()}
      onCancel={onClose}
    >
      <SpaceBetween size="m">
        <Box variant="p">
          {enable
            ? "A protected AMI cannot be deregistered until its protection is disabled."
            : `Protection is now ${image.DeregistrationProtection}. With a cooldown it stays for 24 hours after this.`}
        </Box>
        {enable && (
          <Checkbox
            checked={cooldown}
            onChange={(e) => setCooldown(e.detail.checked)}
            description="When protection is disabled later, the AMI stays protected for 24 more hours."
          >
            Add a 24-hour cooldown
          </Checkbox>
        )}
        <ModalError header="Deregistration protection was not changed" error={change.error} />
      </SpaceBetween>
    </ConfirmModal>
  );
}
