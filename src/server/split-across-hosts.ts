// A call naming instances on several Strata hosts of the region (TerminateInstances of A's and B's
// instances at once): EC2 takes it whole, so this host makes one call per host and merges the
// answers in the call's order. The other hosts get theirs through the official EC2 client, signed
// with the caller's own access key (every host of the region reads the same account store): each
// authenticates the caller and applies its own rules, as for a forwarded call, so nothing passes
// between hosts that the caller could not have sent itself.
// The calls run at once; if one fails, its error is the answer, and what the others did stays
// done (each host's part is whole; a state error on one host does not undo another's).
import {
  EC2Client,
  EC2ServiceException,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import type { HttpRequest } from "@smithy/protocol-http";
import { type ErrorCode, errorCatalogue, StrataError } from "../errors.ts";
import type { HostGroup, OnSeveralHosts } from "../services/hosts/on-several-hosts.ts";
import { FORWARDED_BY } from "./forward.ts";

type Ids = { InstanceIds: string[] };
type Send = (client: EC2Client, input: Ids) => Promise<Record<string, unknown>>;

// The actions split this way, the list their answer carries (none for RebootInstances' boolean).
const SPLITTABLE: Record<string, { list?: string; send: Send }> = {
  StartInstances: {
    list: "StartingInstances",
    send: (c, i) => c.send(new StartInstancesCommand(i)) as never,
  },
  StopInstances: { list: "StoppingInstances", send: (c, i) => c.send(new StopInstancesCommand(i)) as never },
  TerminateInstances: {
    list: "TerminatingInstances",
    send: (c, i) => c.send(new TerminateInstancesCommand(i)) as never,
  },
  RebootInstances: { send: (c, i) => c.send(new RebootInstancesCommand(i)) as never },
};

export interface SplitCall {
  action: string;
  input: Ids;
  /** The action's handler on this host, for the ids it serves itself. */
  runLocal: (input: Ids) => Promise<object>;
  caller: { accessKeyId: string; secretAccessKey: string; region: string };
  /** The FORWARDED_BY value the other hosts' calls carry (this host appended). */
  forwardedBy: string;
}

/** The merged answer of the call's parts; rethrows `split` for an action that is not split. */
export async function splitAcrossHosts(split: OnSeveralHosts, call: SplitCall): Promise<object> {
  const how = SPLITTABLE[call.action];
  if (!how) throw split;
  const parts: Promise<Record<string, unknown>>[] = split.remote.map((g) => callHost(g, how.send, call));
  if (split.localIds.length > 0) {
    parts.push(
      call.runLocal({ ...call.input, InstanceIds: split.localIds }) as Promise<Record<string, unknown>>,
    );
  }
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  if (!how.list) return {};
  const order = new Map(call.input.InstanceIds.map((id, i) => [id, i]));
  const merged = settled
    .flatMap(
      (s) =>
        ((s as PromiseFulfilledResult<Record<string, unknown>>).value[how.list!] ?? []) as {
          InstanceId?: string;
        }[],
    )
    .sort((a, b) => (order.get(a.InstanceId ?? "") ?? 0) - (order.get(b.InstanceId ?? "") ?? 0));
  return { [how.list]: merged };
}

async function callHost(group: HostGroup, send: Send, call: SplitCall): Promise<Record<string, unknown>> {
  const client = new EC2Client({
    endpoint: group.url,
    region: call.caller.region,
    credentials: { accessKeyId: call.caller.accessKeyId, secretAccessKey: call.caller.secretAccessKey },
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (next) => (args) => {
      (args.request as HttpRequest).headers[FORWARDED_BY] = call.forwardedBy;
      return next(args);
    },
    { step: "build", name: "strataForwardedBy" },
  );
  try {
    const { $metadata: _, ...answer } = (await send(client, { ...call.input, InstanceIds: group.ids })) as {
      $metadata: unknown;
    } & Record<string, unknown>;
    return answer;
  } catch (e) {
    // The other host's EC2 error, as it gave it; anything else means it did not answer.
    if (e instanceof EC2ServiceException && e.name in errorCatalogue) {
      throw new StrataError(e.name as ErrorCode, e.message);
    }
    throw new StrataError(
      "ServiceUnavailable",
      `Strata host ${group.hostId} did not answer for ${group.ids.join(", ")}: ${(e as Error).message}`,
    );
  } finally {
    client.destroy();
  }
}
