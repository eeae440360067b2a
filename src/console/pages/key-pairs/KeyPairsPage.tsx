// Key pairs (Network & Security > Key pairs in the EC2 console): the table, Create key pair
// (the private key downloads once), Import key pair, Delete with a confirmation.
import type { KeyPairInfo } from "@aws-sdk/client-ec2";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import SpaceBetween from "@cloudscape-design/components/space-between";
import type { TableProps } from "@cloudscape-design/components/table";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { deleteKeyPair, keyPairKeys, listKeyPairs } from "../../api/key-pairs.ts";
import { useNotify } from "../../app/notifications.tsx";
import { useEc2, useSession } from "../../app/session-context.tsx";
import { ConfirmModal } from "../shared/ConfirmModal.tsx";
import { formatDate } from "../shared/format.ts";
import { ResourceTable } from "../shared/ResourceTable.tsx";
import { CreateKeyPairModal } from "./CreateKeyPairModal.tsx";
import { ImportKeyPairModal } from "./ImportKeyPairModal.tsx";

const tagsText = (k: KeyPairInfo) =>
  (k.Tags ?? [])
    .filter((t) => t.Key !== undefined)
    .map((t) => `${t.Key}=${t.Value ?? ""}`)
    .join(", ");

const COLUMNS: TableProps.ColumnDefinition<KeyPairInfo>[] = [
  { id: "name", header: "Name", cell: (k) => k.KeyName ?? "-", sortingField: "KeyName", isRowHeader: true },
  { id: "type", header: "Type", cell: (k) => k.KeyType ?? "-", sortingField: "KeyType" },
  {
    id: "fingerprint",
    header: "Fingerprint",
    // Long hex or base64 strings: wrapped anywhere, so the table fits 1280 px without scrolling.
    cell: (k) => (
      <span style={{ fontFamily: "monospace", wordBreak: "break-all" }}>{k.KeyFingerprint ?? "-"}</span>
    ),
    minWidth: 180,
  },
  { id: "id", header: "ID", cell: (k) => k.KeyPairId ?? "-", sortingField: "KeyPairId" },
  {
    id: "created",
    header: "Created",
    cell: (k) => formatDate(k.CreateTime),
    sortingComparator: (a, b) => (a.CreateTime?.getTime() ?? 0) - (b.CreateTime?.getTime() ?? 0),
  },
  { id: "tags", header: "Tags", cell: (k) => tagsText(k) || "-" },
];

export function KeyPairsPage() {
  const { region } = useSession();
  const ec2 = useEc2();
  const queries = useQueryClient();
  const { notify, fail } = useNotify();
  const [selected, setSelected] = useState<KeyPairInfo[]>([]);
  const [modal, setModal] = useState<"create" | "import" | "delete">();
  const keys = useQuery({ queryKey: keyPairKeys.all(region), queryFn: () => listKeyPairs(ec2) });
  const remove = useMutation({
    mutationFn: async (doomed: KeyPairInfo[]) => {
      for (const k of doomed) await deleteKeyPair(ec2, k.KeyPairId ?? "");
      return doomed;
    },
    onSuccess: (doomed) => {
      notify({
        type: "success",
        header: `Deleted ${doomed.length === 1 ? "key pair" : "key pairs"} ${doomed.map((k) => k.KeyName).join(", ")}`,
      });
      setSelected([]);
    },
    onError: (e) => fail("Could not delete the key pair", e),
    onSettled: () => {
      setModal(undefined);
      void queries.invalidateQueries({ queryKey: keyPairKeys.all(region) });
    },
  });
  useEffect(() => {
    if (keys.error) fail("Could not list key pairs", keys.error);
  }, [keys.error, fail]);
  return (
    <>
      <ResourceTable
        title="Key pairs"
        items={keys.data ?? []}
        columns={COLUMNS}
        trackBy="KeyPairId"
        loading={keys.isLoading}
        selectionType="multi"
        selected={selected}
        onSelect={setSelected}
        defaultSort={{ column: "name" }}
        emptyText="No key pairs in this region"
        wrapLines
        actions={
          <SpaceBetween direction="horizontal" size="xs">
            <Button
              iconName="refresh"
              ariaLabel="Refresh key pairs"
              loading={keys.isFetching}
              onClick={() => void keys.refetch()}
            />
            <Button disabled={selected.length === 0} onClick={() => setModal("delete")}>
              Delete
            </Button>
            <Button onClick={() => setModal("import")}>Import key pair</Button>
            <Button variant="primary" onClick={() => setModal("create")}>
              Create key pair
            </Button>
          </SpaceBetween>
        }
      />
      {modal === "create" && <CreateKeyPairModal visible onDismiss={() => setModal(undefined)} />}
      {modal === "import" && <ImportKeyPairModal visible onDismiss={() => setModal(undefined)} />}
      <ConfirmModal
        visible={modal === "delete"}
        title={selected.length === 1 ? "Delete key pair" : `Delete ${selected.length} key pairs`}
        confirmLabel="Delete"
        busy={remove.isPending}
        onCancel={() => setModal(undefined)}
        onConfirm={() => {
          if (!remove.isPending) remove.mutate(selected);
        }}
      >
        <SpaceBetween size="s">
          <Box>
            Delete {selected.map((k) => k.KeyName).join(", ")}? Instances launched with{" "}
            {selected.length === 1 ? "it keep" : "them keep"} their key; new launches cannot use it.
          </Box>
        </SpaceBetween>
      </ConfirmModal>
    </>
  );
}
