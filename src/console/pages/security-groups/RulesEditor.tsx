// The rows of "Edit inbound rules" / "Edit outbound rules" (and of the create page), laid out as
// the AWS console's editor: Type, Protocol, Port range, Source or Destination, Description. The
// protocol and port range are fixed by named types (SSH is TCP 22) and typed for custom ones.
import AttributeEditor from "@cloudscape-design/components/attribute-editor";
import Autosuggest from "@cloudscape-design/components/autosuggest";
import Input from "@cloudscape-design/components/input";
import Select from "@cloudscape-design/components/select";
import type { Direction } from "../../api/security-groups.ts";
import {
  type DraftError,
  newDraft,
  protocolText,
  RULE_TYPES,
  type RuleDraft,
  ruleType,
  withType,
} from "./rule-model.ts";

export interface PeerOption {
  /** A security group id (or a CIDR block). */
  value: string;
  label?: string;
  description?: string;
}

const TYPE_OPTIONS = RULE_TYPES.map((t) => ({ value: t.id, label: t.label }));

/** The usual CIDR blocks, beside the groups of the VPC, as the AWS console suggests them. */
const CIDR_OPTIONS: PeerOption[] = [{ value: "0.0.0.0/0", label: "0.0.0.0/0", description: "Anywhere-IPv4" }];

const FIELDSET = { border: 0, margin: 0, padding: 0, minWidth: 0 };

export function RulesEditor(p: {
  direction: Direction;
  drafts: RuleDraft[];
  onChange(drafts: RuleDraft[]): void;
  errors: Map<string, DraftError>;
  /** Groups a rule may reference (those of the group's VPC). */
  groups: PeerOption[];
  disabled?: boolean;
}) {
  const peerLabel = p.direction === "inbound" ? "Source" : "Destination";
  const update = (i: number, d: RuleDraft) => p.onChange(p.drafts.map((x, j) => (j === i ? d : x)));
  const errorFor = (d: RuleDraft, field: DraftError["field"]) => {
    const e = p.errors.get(d.key);
    return e?.field === field ? e.message : undefined;
  };
  // A named group, so each editor's rows can be told apart (the create page has two).
  return (
    <fieldset aria-label={p.direction === "inbound" ? "Inbound rules" : "Outbound rules"} style={FIELDSET}>
      <AttributeEditor<RuleDraft>
        items={p.drafts}
        addButtonText="Add rule"
        removeButtonText="Delete"
        removeButtonAriaLabel={(d) => `Delete rule ${p.drafts.indexOf(d) + 1}`}
        disableAddButton={p.disabled}
        onAddButtonClick={() => p.onChange([...p.drafts, newDraft()])}
        onRemoveButtonClick={(e) => p.onChange(p.drafts.filter((_, j) => j !== e.detail.itemIndex))}
        empty={`This security group has no ${p.direction} rules.`}
        i18nStrings={{ itemRemovedAriaLive: "A rule was removed.", errorIconAriaLabel: "Error" }}
        gridLayout={[
          // One row per rule from 688 px of editor width (a 1280 px window), as the AWS console lays it out.
          { breakpoint: "xs", rows: [[3, 2, 2, 4, 3]], removeButton: { width: "auto" } },
          { rows: [[1, 1], [1, 1], [1]] },
        ]}
        definition={[
          {
            label: "Type",
            control: (d, i) => (
              <Select
                selectedOption={TYPE_OPTIONS.find((o) => o.value === d.type) ?? null}
                options={TYPE_OPTIONS}
                disabled={p.disabled}
                onChange={(e) => update(i, withType(d, e.detail.selectedOption.value as RuleDraft["type"]))}
              />
            ),
          },
          {
            label: "Protocol",
            errorText: (d) => errorFor(d, "protocol"),
            control: (d, i) =>
              d.type === "custom-protocol" ? (
                <Input
                  value={d.protocol}
                  placeholder="e.g. icmp or 47"
                  disabled={p.disabled}
                  onChange={(e) => update(i, { ...d, protocol: e.detail.value })}
                />
              ) : (
                <Input value={protocolText(d.protocol)} readOnly />
              ),
          },
          {
            label: "Port range",
            errorText: (d) => errorFor(d, "portRange"),
            control: (d, i) =>
              ruleType(d.type).ports !== undefined ? (
                <Input value={d.portRange} readOnly />
              ) : (
                <Input
                  value={d.portRange}
                  placeholder={d.type === "custom-protocol" ? "All" : "e.g. 22 or 8000-8080"}
                  disabled={p.disabled}
                  onChange={(e) => update(i, { ...d, portRange: e.detail.value })}
                />
              ),
          },
          {
            label: peerLabel,
            errorText: (d) => errorFor(d, "peer"),
            control: (d, i) => (
              <Autosuggest
                value={d.peer}
                options={[...CIDR_OPTIONS, ...p.groups]}
                placeholder="CIDR block or security group ID"
                enteredTextLabel={(v) => `Use "${v}"`}
                clearAriaLabel="Clear"
                empty="No matching security groups"
                disabled={p.disabled}
                onChange={(e) => update(i, { ...d, peer: e.detail.value })}
              />
            ),
          },
          {
            label: "Description",
            control: (d, i) => (
              <Input
                value={d.description}
                placeholder="Optional"
                disabled={p.disabled}
                onChange={(e) => update(i, { ...d, description: e.detail.value })}
              />
            ),
          },
        ]}
      />
    </fieldset>
  );
}
