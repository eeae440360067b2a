// Linux delivers a VXLAN packet whose destination is an address of its own machine straight to
// the receiving VXLAN device ("local bypass"), without encapsulating it and without clearing what
// the sending namespace's stack attached to it (its route, its conntrack entry): between two VPC
// namespaces of two Strata hosts on one machine (tests, a developer's laptop) that loops packets
// back into the sender's route. Turning the bypass off (IFLA_VXLAN_LOCALBYPASS, Linux 6.6) sends
// them through UDP as between machines. iproute2 learned the flag only in 6.7 (Debian 12 has 6.1),
// so the change is one rtnetlink request made from Python's standard library (Node cannot open
// netlink sockets).
import { run } from "./commands.ts";

const IFLA_VXLAN_LOCALBYPASS = 31;

const SCRIPT = `
import socket, struct, sys
def attr(kind, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\\0" * (-n % 4)
index = socket.if_nametoindex(sys.argv[1])
data = attr(${IFLA_VXLAN_LOCALBYPASS}, struct.pack("=B", 0))
linkinfo = attr(18, attr(1, b"vxlan\\0") + attr(2, data))  # IFLA_LINKINFO: KIND, DATA
body = struct.pack("=BxHiII", 0, 0, index, 0, 0) + linkinfo  # ifinfomsg
msg = struct.pack("=IHHII", 16 + len(body), 16, 1 | 4, 1, 0) + body  # RTM_NEWLINK, REQUEST|ACK
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.send(msg)
error = struct.unpack_from("=i", s.recv(4096), 16)[0]
if error:
    sys.exit("rtnetlink: " + __import__("os").strerror(-error))
`;

/** Turns local bypass off on a VXLAN device of the current namespace; false (with why) if the kernel cannot. */
export async function disableLocalBypass(
  device: string,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const r = await run("python3", ["-c", SCRIPT, device], { allowFail: true });
  return r.code === 0 ? { ok: true } : { ok: false, reason: r.stderr.trim() || `exit ${r.code}` };
}
