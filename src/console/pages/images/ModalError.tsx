// An API error inside an action's modal: its code and message, so the input can be fixed and
// the action tried again without losing what was typed.
import Alert from "@cloudscape-design/components/alert";
import { errorText } from "../../api/errors.ts";

export function ModalError({ error, header }: { error: unknown; header: string }) {
  if (!error) return null;
  return (
    <Alert type="error" header={header} statusIconAriaLabel="Error">
      {errorText(error)}
    </Alert>
  );
}
