// This host in one region's hosts table: it registers with its URL, zone and free room, beats
// every few seconds, and on each beat looks for hosts whose heartbeat stopped: the first survivor
// to see one marks it lost (a conditional update, so exactly one does) and its instances stopped,
// as EC2 reports instances of a failed host. A host that cannot beat for half the timeout, or
// finds itself marked lost, fences itself: it kills its VMs before anyone may start them
// elsewhere, then registers again. No consensus of our own: the database decides.
import type { InstanceTypeInfo } from "../../compute/instance-types.ts";
import { StrataError } from "../../errors.ts";
import type { HostRecord, HostStore } from "../../storage/metadata/host-store.ts";
import type { ComputeHost } from "../instances/compute-host.ts";
import { OnAnotherHost } from "./on-another-host.ts";

export interface HostOptions {
  /** This host's id (default: the one kept in the data dir's `host-id` file). */
  id: string;
  /** The zone letter it runs instances and volumes in (a, b or c); absent: every zone. */
  zone?: string;
  /** Heartbeat period (default 5 s). */
  heartbeatMs?: number;
  /** A host whose last heartbeat is older than this is lost (default 30 s). */
  lostAfterMs?: number;
  /** Checkpoints of this host's written volumes into the pack store every so often (default: off). */
  checkpointMs?: number;
  /** Where other hosts send this host's VPC traffic ("address:port", see network/tunnel.ts). */
  tunnel?: string | null;
}

export interface HostEvents {
  /** Another host was found lost: its instances are to be marked stopped (idempotent). */
  hostLost(hostId: string): Promise<void>;
  /** This host was marked lost, or could not beat: kill every VM it runs, at once. */
  fence(): Promise<void>;
}

export class HostRegistry {
  readonly id: string;
  /** The zone this host serves in the region, or null for all of them. */
  readonly zone: string | null;
  readonly #region: string;
  readonly #store: HostStore;
  readonly #compute: () => ComputeHost;
  readonly #heartbeatMs: number;
  readonly #lostAfterMs: number;
  readonly checkpointMs: number;
  readonly tunnel: string | null;
  #events: HostEvents | undefined;
  #url = "";
  #timer: NodeJS.Timeout | undefined;
  #lastBeat = 0;
  #beating: Promise<void> | undefined;
  // Lost hosts (id@startedAt) whose instances this host has recorded stopped: not scanned again
  // each beat (a lost host's row stays; one that registers again starts anew).
  readonly #handledLoss = new Set<string>();

  constructor(region: string, store: HostStore, options: HostOptions, compute: () => ComputeHost) {
    this.#region = region;
    this.id = options.id;
    this.zone = options.zone ? `${region}${options.zone}` : null;
    this.#store = store;
    this.#compute = compute;
    this.#heartbeatMs = options.heartbeatMs ?? 5_000;
    this.#lostAfterMs = options.lostAfterMs ?? 30_000;
    this.checkpointMs = options.checkpointMs ?? 0;
    this.tunnel = options.tunnel ?? null;
  }

  get store(): HostStore {
    return this.#store;
  }

  /** Whether this host runs instances and volumes in `zone`. */
  serves(zone: string): boolean {
    return this.zone === null || this.zone === zone;
  }

  /** Registers with the URL other hosts forward to, and beats from now on. */
  async start(url: string, events: HostEvents): Promise<void> {
    this.#url = url;
    this.#events = events;
    await this.#register();
    this.#timer = setInterval(() => {
      this.#beating ??= this.#beat().finally(() => {
        this.#beating = undefined;
      });
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Where a resource owned by `hostId` lives: here (null: recorded before hosts were), or that host. */
  async locate(hostId: string | null | undefined): Promise<"here" | HostRecord> {
    if (!hostId || hostId === this.id) return "here";
    const h = await this.#store.get(hostId);
    if (!h) {
      throw new StrataError(
        "ServiceUnavailable",
        `Strata host ${hostId} is not registered in ${this.#region}.`,
      );
    }
    return h;
  }

  /**
   * "here" if the resource is here; "adopt" if its host is lost (this host may take it over);
   * else OnAnotherHost (the endpoint forwards the call), or IncorrectState while its host is
   * silent but not yet lost.
   */
  async assertHere(
    what: string,
    hostId: string | null | undefined,
    zone?: string,
  ): Promise<"here" | "adopt"> {
    const where = await this.locate(hostId);
    if (where === "here") return "here";
    if (where.state === "lost") {
      // Taken over within its zone, as EBS volumes stay in theirs: here, or by a host of the zone.
      const taker = zone === undefined ? "here" : await this.placeVolume(zone);
      if (taker === "here") return "adopt";
      throw new OnAnotherHost(`A host of ${zone}`, taker.id, taker.url);
    }
    if (!this.#fresh(where)) {
      throw new StrataError(
        "IncorrectState",
        `${what} is on Strata host ${where.id}, silent since ${new Date(where.heartbeatAt).toISOString()}; ` +
          `${this.#lostAfterMs / 1000} s after its last heartbeat it is lost, and another host may take it over.`,
      );
    }
    throw new OnAnotherHost(what, where.id, where.url);
  }

  /**
   * The host `count` instances of the type go to in `zone`: this one when it serves the zone and
   * they fit here, else the live host of the zone with the most free memory that has the room.
   */
  async place(zone: string, type: InstanceTypeInfo, count: number): Promise<"here" | HostRecord> {
    const here = this.serves(zone);
    if (here && this.#compute().fits(type, count) >= count) return "here";
    const others = (await this.#store.list()).filter(
      (h) =>
        h.id !== this.id &&
        h.state === "alive" &&
        this.#fresh(h) &&
        (h.zone === null || h.zone === zone) &&
        h.freeVcpus >= type.vcpus * count &&
        h.freeMemoryMiB >= type.memoryMiB * count,
    );
    others.sort((a, b) => b.freeMemoryMiB - a.freeMemoryMiB);
    if (others.length > 0) return others[0];
    // Here, the host's own check explains what does not fit.
    if (here) return "here";
    throw new StrataError(
      "InsufficientInstanceCapacity",
      `No Strata host with room for ${count} x ${type.name} runs instances in ${zone} now; try another zone or later.`,
    );
  }

  /** The zone a volume goes to here: the one asked for if this host serves it, else OnAnotherHost or an error. */
  async placeVolume(zone: string): Promise<"here" | HostRecord> {
    if (this.serves(zone)) return "here";
    const live = (await this.#store.list()).filter(
      (h) => h.state === "alive" && this.#fresh(h) && (h.zone === null || h.zone === zone),
    );
    if (live.length > 0) return live[0];
    throw new StrataError(
      "InsufficientVolumeCapacity",
      `No Strata host serves ${zone} now; try another zone or later.`,
    );
  }

  /**
   * Stops beating; the row stays: its volumes' data stays on this host's disk until it starts
   * again, unless it stays away past the timeout and another host takes them over.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beating;
  }

  #fresh(h: HostRecord): boolean {
    return h.heartbeatAt >= Date.now() - this.#lostAfterMs;
  }

  #free(): { vcpus: number; memoryMiB: number } {
    const c = this.#compute();
    return {
      vcpus: Math.max(0, c.capacity.vcpus - c.used.vcpus),
      memoryMiB: Math.max(0, c.capacity.memoryMiB - c.used.memoryMiB),
    };
  }

  async #register(): Promise<void> {
    const now = Date.now();
    const free = this.#free();
    await this.#store.register({
      id: this.id,
      url: this.#url,
      zone: this.zone,
      freeVcpus: free.vcpus,
      freeMemoryMiB: free.memoryMiB,
      state: "alive",
      startedAt: now,
      heartbeatAt: now,
      tunnel: this.tunnel,
    });
    this.#lastBeat = now;
  }

  async #beat(): Promise<void> {
    const events = this.#events as HostEvents;
    try {
      if (await this.#store.heartbeat(this.id, this.#free(), Date.now())) {
        this.#lastBeat = Date.now();
      } else {
        console.error(`${this.#region}: host ${this.id} was marked lost by another host: fencing its VMs`);
        await events.fence();
        await this.#register();
      }
    } catch (e) {
      if (Date.now() - this.#lastBeat > this.#lostAfterMs / 2) {
        console.error(
          `${this.#region}: host ${this.id} cannot beat (${(e as Error).message}): fencing its VMs`,
        );
        await events.fence().catch(() => {});
      }
      return;
    }
    try {
      const cutoff = Date.now() - this.#lostAfterMs;
      for (const h of await this.#store.list()) {
        if (h.id === this.id) continue;
        let lost = h.state === "lost";
        if (!lost && h.heartbeatAt < cutoff && (await this.#store.markLost(h.id, cutoff))) {
          console.error(`${this.#region}: host ${h.id} missed its heartbeats: marked lost`);
          lost = true;
        }
        // Not only by the marking host: a survivor that died half-way is finished here.
        const loss = `${h.id}@${h.startedAt}`;
        if (!lost || this.#handledLoss.has(loss)) continue;
        await events.hostLost(h.id);
        this.#handledLoss.add(loss);
      }
    } catch (e) {
      console.error(`${this.#region}: looking for lost hosts failed: ${(e as Error).message}`);
    }
  }
}
