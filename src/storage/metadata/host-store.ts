// The hosts seam: which Strata hosts serve a region (several may share one PostgreSQL database),
// where each is reached, the zone it runs instances in, its free room and its heartbeat.

export type HostState = "alive" | "lost";

export interface HostRecord {
  id: string;
  /** Its API's base URL, to which other hosts forward calls for its instances and volumes. */
  url: string;
  /** The availability zone it runs instances and volumes in; null: every zone of the region. */
  zone: string | null;
  freeVcpus: number;
  freeMemoryMiB: number;
  state: HostState;
  /** ms since the epoch. */
  startedAt: number;
  heartbeatAt: number;
  /** Where its VXLAN packets go, "address:port" (null: no tunnel, so no VPC traffic to other hosts). */
  tunnel: string | null;
}

/** A hosts row as both SQL stores read it (same columns, numbers possibly as strings). */
export function toHost(r: Record<string, unknown>): HostRecord {
  return {
    id: String(r.id),
    url: String(r.url),
    zone: r.zone === null ? null : String(r.zone),
    freeVcpus: Number(r.free_vcpus),
    freeMemoryMiB: Number(r.free_memory_mib),
    state: r.state as HostState,
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
    tunnel: r.tunnel == null ? null : String(r.tunnel),
  };
}

export interface HostStore {
  /** Inserts or replaces the host's row, alive. */
  register(host: HostRecord): Promise<void>;
  /**
   * Records a heartbeat with the host's free room; false if the row is gone or marked lost (the
   * host must fence itself: another host has already stopped its instances).
   */
  heartbeat(id: string, free: { vcpus: number; memoryMiB: number }, at: number): Promise<boolean>;
  list(): Promise<HostRecord[]>;
  get(id: string): Promise<HostRecord | undefined>;
  /** Marks the host lost if it is alive with a heartbeat before `cutoff`; true for the one caller that did. */
  markLost(id: string, cutoff: number): Promise<boolean>;
  /** Gives volumes with no host (made before hosts were recorded), or with `all` every volume, to `host`. */
  claimVolumes(host: string, all: boolean): Promise<number>;
}
