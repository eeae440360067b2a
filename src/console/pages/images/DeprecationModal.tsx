// Actions > Manage AMI deprecation: a date and time (UTC) after which the AMI is deprecated
// (EnableImageDeprecation), or no deprecation (DisableImageDeprecation). As on EC2, a deprecated
// AMI can still be launched, but other accounts no longer see it in their lists.
import type { Image } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Checkbox from "@cloudscape-design/components/checkbox";
import DatePicker from "@cloudscape-design/components/date-picker";
import FormField from "@cloudscape-design/components/form-field";
import SpaceBetween from "@cloudscape-design/components/space-between";
import TimeInput from "@cloudscape-design/components/time-input";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { disableDeprecation, enableDeprecation } from "../../api/images.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2 } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { formatDate } from "../shared/format.ts";
import { useInvalidateImages } from "./hooks.ts";
import { ModalError } from "./ModalError.tsx";

const WEEK_MS = 7 * 24 * 3600_000;

/** "YYYY-MM-DD" and "hh:mm" of a time, in UTC. */
function parts(d: Date): { date: string; time: string } {
  const iso = d.toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) };
}

export function DeprecationModal({ image, onClose }: { image: Image; onClose(): void }) {
  const ec2 = useEc2();
  const { notify } = useNotify();
  const invalidate = useInvalidateImages();
  const id = image.ImageId ?? "";
  const current = image.DeprecationTime ? new Date(image.DeprecationTime) : undefined;
  const initial = parts(current ?? new Date(Date.now() + WEEK_MS));
  const [enabled, setEnabled] = useState(current !== undefined);
  const [date, setDate] = useState(initial.date);
  const [time, setTime] = useState(initial.time);
  const at = new Date(`${date}T${time.length === 5 ? time : "00:00"}:00Z`);
  const invalid =
    enabled && Number.isNaN(at.getTime()) ? "Enter a date (YYYY/MM/DD) and a time (hh:mm)." : undefined;

  const save = useMutation({
    mutationFn: async () => {
      if (enabled) await enableDeprecation(ec2, id, at);
      else await disableDeprecation(ec2, id);
    },
    onSuccess: async () => {
      notify({
        type: "success",
        header: enabled ? `${id} is deprecated from ${formatDate(at)}` : `Deprecation of ${id} disabled`,
      });
      await invalidate();
      onClose();
    },
  });

  return (
    <ConfirmModal
      visible
      title={`Manage AMI deprecation: ${id}`}
      confirmLabel="Save"
      busy={save.isPending}
      onConfirm={() => !invalid && save.mutate()}
      onCancel={onClose}
    >
      <SpaceBetween size="m">
        <Box variant="p">
          Currently: {current ? `deprecated from ${formatDate(current)}` : "no deprecation"}.
        </Box>
        <Checkbox checked={enabled} onChange={(e) => setEnabled(e.detail.checked)}>
          Enable deprecation
        </Checkbox>
        {enabled && (
          <SpaceBetween direction="horizontal" size="m">
            <FormField label="Deprecation date (UTC)" errorText={invalid}>
              <DatePicker
                value={date}
                onChange={(e) => setDate(e.detail.value)}
                placeholder="YYYY/MM/DD"
                isDateEnabled={(d) => d.getTime() > Date.now() - 24 * 3600_000}
                i18nStrings={{
                  openCalendarAriaLabel: (d) =>
                    `Choose deprecation date${d ? `, selected date is ${d}` : ""}`,
                  previousMonthAriaLabel: "Previous month",
                  nextMonthAriaLabel: "Next month",
                  todayAriaLabel: "Today",
                }}
              />
            </FormField>
            <FormField label="Deprecation time (UTC)">
              <TimeInput
                value={time}
                onChange={(e) => setTime(e.detail.value)}
                format="hh:mm"
                placeholder="hh:mm"
              />
            </FormField>
          </SpaceBetween>
        )}
        <ModalError header="The deprecation was not changed" error={save.error} />
      </SpaceBetween>
    </ConfirmModal>
  );
}
