// A confirmation before anything that cannot be undone (terminate, deregister, delete).
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Modal from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { ReactNode } from "react";

export function ConfirmModal(p: {
  visible: boolean;
  title: string;
  confirmLabel: string;
  busy?: boolean;
  children: ReactNode;
  onConfirm(): void;
  onCancel(): void;
}) {
  return (
    <Modal
      visible={p.visible}
      header={p.title}
      onDismiss={p.onCancel}
      closeAriaLabel="Close dialog"
      footer={
        <Box float="right">
          <SpaceBetween direction="horizontal" size="xs">
            <Button variant="link" onClick={p.onCancel}>
              Cancel
            </Button>
            <Button variant="primary" loading={p.busy} onClick={p.onConfirm}>
              {p.confirmLabel}
            </Button>
          </SpaceBetween>
        </Box>
      }
    >
      {p.children}
    </Modal>
  );
}
