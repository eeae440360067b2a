// Thrown by a service before it changes anything, when a call names instances that live on
// several Strata hosts of the region (e.g. TerminateInstances of A's and B's instances). EC2 takes
// such a call whole, so the EC2 endpoint splits it: one call per host, the answers merged (see
// src/server/split-across-hosts.ts). Anything else that meets it answers with its message.
import { StrataError } from "../../errors.ts";

export interface HostGroup {
  hostId: string;
  url: string;
  /** The call's ids that live on that host, in the call's order. */
  ids: string[];
}

export class OnSeveralHosts extends StrataError {
  /** The ids this host serves itself (possibly none). */
  readonly localIds: string[];
  readonly remote: HostGroup[];

  constructor(localIds: string[], remote: HostGroup[]) {
    super(
      "InvalidParameterCombination",
      "These instances run on different Strata hosts; name each host's instances in a call of their own.",
    );
    this.localIds = localIds;
    this.remote = remote;
  }
}
