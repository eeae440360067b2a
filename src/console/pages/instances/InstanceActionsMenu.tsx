// The "Actions" menu of the list and details pages. Like the EC2 console's, its actions sit in
// groups, opened as submenus; Strata has one: Image and templates > Create image (one running or
// stopped instance).
import type { Instance } from "@aws-sdk/client-ec2";
import ButtonDropdown from "@cloudscape-design/components/button-dropdown";
import { useState } from "react";
import { CreateImageModal } from "./CreateImageModal.tsx";
import { canCreateImage } from "./instance-state.ts";

export function InstanceActionsMenu({ selected }: { selected: Instance[] }) {
  const [imageOf, setImageOf] = useState<Instance>();
  return (
    <>
      <ButtonDropdown
        expandableGroups
        disabled={selected.length === 0}
        disabledReason="Select an instance"
        items={[
          {
            text: "Image and templates",
            items: [
              {
                id: "create-image",
                text: "Create image",
                disabled: !canCreateImage(selected),
                disabledReason:
                  selected.length > 1
                    ? "Select a single instance"
                    : "The instance must be running or stopped",
              },
            ],
          },
        ]}
        onItemClick={(e) => {
          if (e.detail.id === "create-image") setImageOf(selected[0]);
        }}
      >
        Actions
      </ButtonDropdown>
      {imageOf && <CreateImageModal instance={imageOf} onClose={() => setImageOf(undefined)} />}
    </>
  );
}
