// Thrown by a service before it changes anything, when the instance or volume a call is about
// lives on another Strata host of the region (its VM and its volume files are on that host's
// machine). The EC2 endpoint forwards the caller's signed request there unchanged; anything else
// that meets it answers ServiceUnavailable.
import { StrataError } from "../../errors.ts";

export class OnAnotherHost extends StrataError {
  readonly hostId: string;
  readonly url: string;

  constructor(what: string, hostId: string, url: string) {
    super("ServiceUnavailable", `${what} is on Strata host ${hostId} (${url}); send the call there.`);
    this.hostId = hostId;
    this.url = url;
  }
}
