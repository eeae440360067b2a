// The instances of a host found lost (see HostRegistry): recorded stopped, as EC2 reports the
// instances of failed hardware, or terminated if they were shutting down. Any surviving host may
// do it, any number of times: each instance is re-read under its lock, and one already changed
// (or taken over by another host) is left alone.
import { ec2Time } from "./instance-identity.ts";
import { ACTIVE, type VmSupervisor } from "./vm-supervisor.ts";

export async function recordHostLost(vms: VmSupervisor, hostId: string): Promise<void> {
  for (const listed of await vms.store.listInstances()) {
    if (listed.host !== hostId || !ACTIVE.includes(listed.state)) continue;
    await vms.withLock(listed.id, async () => {
      const r = await vms.record(listed.id);
      if (r.host !== hostId || !ACTIVE.includes(r.state)) return;
      // Written only if still so in the database: the lock is this process's, and a host taking
      // the instance over may have changed it since (its write must not be undone).
      const expect = { state: r.state, host: hostId };
      r.pid = null;
      const message = `Server.InternalError: its Strata host ${hostId} stopped answering`;
      const reason = { code: "Server.InternalError", message };
      if (r.state === "shutting-down") {
        r.terminatedAt = new Date().toISOString();
        await vms.setState(r, "terminated", `${message} (${ec2Time()})`, reason, expect);
      } else {
        await vms.setState(r, "stopped", `${message} (${ec2Time()})`, reason, expect);
      }
    });
  }
}
