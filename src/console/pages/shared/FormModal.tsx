// A dialog that is one form: its fields, the API's error in the form, Cancel and one submit button
// ("Create volume", "Copy snapshot", ...). Enter in a field submits; Cancel, Escape and the close
// button call onClose, which also resets what was typed. The dialog's name is its header.
import Button from "@cloudscape-design/components/button";
import Form from "@cloudscape-design/components/form";
import Modal, { type ModalProps } from "@cloudscape-design/components/modal";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { ReactNode } from "react";
import { errorText } from "../../api/errors.ts";

export function FormModal(p: {
  visible: boolean;
  header: string;
  submitLabel: string;
  busy?: boolean;
  /** A string is shown as given (a check of the input); anything else as the API's code and message. */
  error?: unknown;
  submitDisabled?: boolean;
  size?: ModalProps.Size;
  children: ReactNode;
  onSubmit(): void;
  onClose(): void;
}) {
  return (
    <Modal
      visible={p.visible}
      size={p.size}
      header={p.header}
      onDismiss={p.onClose}
      closeAriaLabel="Close dialog"
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          e.stopPropagation(); // React bubbles through the portal: not a surrounding form's submit
          p.onSubmit();
        }}
      >
        <Form
          errorText={p.error ? (typeof p.error === "string" ? p.error : errorText(p.error)) : undefined}
          errorIconAriaLabel="Error"
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <Button formAction="none" variant="link" onClick={p.onClose}>
                Cancel
              </Button>
              <Button variant="primary" loading={p.busy} disabled={p.submitDisabled}>
                {p.submitLabel}
              </Button>
            </SpaceBetween>
          }
        >
          {p.children}
        </Form>
      </form>
    </Modal>
  );
}
