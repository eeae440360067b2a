// The checks every TCP request passes before any handler sees it: it is addressed to one of the
// server's own names (a DNS-rebinding page's requests carry the attacker's Host), and it does not
// come from another origin (a web page's cross-site POST carries its Origin). Nothing is done
// for a refused request; it gets an EC2 error document and no CORS headers.
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { StrataError } from "../errors.ts";

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];

export interface FrontDoorOptions {
  scheme: "http" | "https";
  /** `--host` as given (an address or a name). */
  host: string;
  /** The address the listener is bound to (server.address().address). */
  boundAddress: string;
  /** Names the operator added (`--hostname`), e.g. the DNS name clients use. */
  hostnames?: string[];
}

export class FrontDoor {
  readonly scheme: "http" | "https";
  readonly #names = new Set<string>();
  readonly #wildcard: boolean;

  constructor(o: FrontDoorOptions) {
    this.scheme = o.scheme;
    this.#wildcard = o.boundAddress === "0.0.0.0" || o.boundAddress === "::";
    // A wildcard is no one's name (browsers would send Host 0.0.0.0 only to this very origin).
    const own = this.#wildcard ? [] : [o.host, o.boundAddress];
    for (const n of [...own, ...(o.hostnames ?? [])]) this.#names.add(normalize(n));
    if (this.#wildcard || isLoopback(o.boundAddress)) for (const n of LOOPBACK_NAMES) this.#names.add(n);
    if (this.#wildcard) this.#addMachineNames();
  }

  /** The names a request's Host may carry (for the log and the error message). */
  get names(): string[] {
    return [...this.#names];
  }

  /** Why the request is refused, or undefined when it may go on. */
  refusal(req: IncomingMessage): StrataError | undefined {
    const host = req.headers.host;
    const name = host === undefined ? undefined : hostName(host);
    if (name === undefined || !this.#knows(name)) {
      return new StrataError(
        "InvalidHostHeader",
        `The Host header '${host ?? ""}' is not a name of this server; use one of ${this.names.join(", ")} (or start it with --hostname NAME).`,
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.#originOf(host!)) {
      return new StrataError(
        "CrossOriginRequestDenied",
        `Requests from origin '${origin}' are not accepted: only from ${this.#originOf(host!)}.`,
      );
    }
    // Browsers send it on every request, including cross-site GETs that carry no Origin.
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none" && !isConsoleNavigation(req)) {
      return new StrataError("CrossOriginRequestDenied", `A ${site} request is not accepted.`);
    }
    return undefined;
  }

  #knows(name: string): boolean {
    if (this.#names.has(name)) return true;
    // Interfaces come and go (DHCP, VPNs): look again before refusing.
    if (this.#wildcard) this.#addMachineNames();
    return this.#names.has(name);
  }

  #addMachineNames(): void {
    this.#names.add(normalize(hostname()));
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (!a.address.includes("%")) this.#names.add(normalize(a.address));
    }
  }

  /** This server's origin as a browser on `host` computes it (default ports omitted, as in Origin). */
  #originOf(host: string): string {
    return new URL(`${this.scheme}://${host}`).origin;
  }
}

/**
 * A link from another site to a console page (a wiki, a runbook): a top-level GET of static files
 * that carry no authority (the console's key lives in that tab's sessionStorage, never in a
 * cookie), so it may pass. Its API calls are same-origin requests, checked like any other.
 */
function isConsoleNavigation(req: IncomingMessage): boolean {
  const path = (req.url ?? "").split("?")[0];
  return (
    (req.method === "GET" || req.method === "HEAD") &&
    req.headers["sec-fetch-mode"] === "navigate" &&
    req.headers["sec-fetch-dest"] === "document" &&
    req.headers.origin === undefined &&
    (path === "/console" || path.startsWith("/console/"))
  );
}

/** The host name in a Host header: lowercase, without port, brackets or a trailing dot. */
function hostName(header: string): string | undefined {
  // Only what a Host header may hold: no userinfo, path or spaces to confuse the URL parser.
  if (!/^[A-Za-z0-9.\-_]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(header)) return undefined;
  try {
    return normalize(new URL(`http://${header}`).hostname);
  } catch {
    return undefined;
  }
}

function normalize(name: string): string {
  return name
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
}

export function isLoopback(address: string): boolean {
  const a = normalize(address).replace(/^::ffff:/, "");
  return a === "localhost" || a === "::1" || (isIP(a) === 4 && a.startsWith("127."));
}
