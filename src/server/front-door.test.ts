import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { hostname } from "node:os";
import { test } from "node:test";
import { FrontDoor, isLoopback } from "./front-door.ts";

function req(headers: Record<string, string>, method = "GET", url = "/"): IncomingMessage {
  return { headers, method, url } as unknown as IncomingMessage;
}

function verdict(door: FrontDoor, headers: Record<string, string>): string {
  return door.refusal(req(headers))?.code ?? "ok";
}

test("bound to loopback: loopback names pass in any case, with or without port; nothing else", () => {
  const door = new FrontDoor({ scheme: "http", host: "127.0.0.1", boundAddress: "127.0.0.1" });
  for (const host of ["127.0.0.1:4566", "localhost", "LocalHost:1", "localhost.", "[::1]:4566", "[::1]"])
    assert.equal(verdict(door, { host }), "ok", host);
  for (const host of [
    "evil.example",
    "127.0.0.1.evil.example",
    "evil@127.0.0.1", // userinfo: not a Host header
    "127.0.0.1/x",
    "127.0.0.1:4566:1",
    "127.0.0.1:999999",
    "",
    ...(isLoopback(hostname()) ? [] : [hostname()]), // the machine's name is not a loopback name
  ])
    assert.equal(verdict(door, { host }), "InvalidHostHeader", host);
  assert.equal(verdict(door, {}), "InvalidHostHeader", "no Host at all");
});

test("bound to one address: that address and the --hostname names only", () => {
  const door = new FrontDoor({
    scheme: "https",
    host: "10.1.2.3",
    boundAddress: "10.1.2.3",
    hostnames: ["Strata.Example.com"],
  });
  for (const host of ["10.1.2.3", "10.1.2.3:443", "strata.example.com", "STRATA.example.com.:8443"])
    assert.equal(verdict(door, { host }), "ok", host);
  for (const host of ["localhost", "127.0.0.1", "example.com"])
    assert.equal(verdict(door, { host }), "InvalidHostHeader", host);
});

test("bound to a wildcard: the machine's hostname and loopback names pass", () => {
  const door = new FrontDoor({ scheme: "http", host: "0.0.0.0", boundAddress: "0.0.0.0" });
  for (const host of [hostname(), "localhost", "127.0.0.1:80"])
    assert.equal(verdict(door, { host }), "ok", host);
  for (const host of ["evil.example", "0.0.0.0"])
    assert.equal(verdict(door, { host }), "InvalidHostHeader", host);
});

test("only the server's own origin passes; browsers' cross-site requests without Origin do not", () => {
  const door = new FrontDoor({ scheme: "http", host: "127.0.0.1", boundAddress: "127.0.0.1" });
  const host = "127.0.0.1:4566";
  assert.equal(verdict(door, { host, origin: "http://127.0.0.1:4566" }), "ok");
  assert.equal(verdict(door, { host: "localhost:4566", origin: "http://localhost:4566" }), "ok");
  assert.equal(verdict(door, { host, "sec-fetch-site": "same-origin" }), "ok");
  assert.equal(verdict(door, { host, "sec-fetch-site": "none" }), "ok", "typed into the address bar");
  for (const origin of [
    "http://evil.example",
    "http://127.0.0.1:4567", // another port is another origin
    "http://localhost:4566", // another name too
    "https://127.0.0.1:4566", // and another scheme
    "null",
  ])
    assert.equal(verdict(door, { host, origin }), "CrossOriginRequestDenied", origin);
  for (const site of ["cross-site", "same-site"])
    assert.equal(verdict(door, { host, "sec-fetch-site": site }), "CrossOriginRequestDenied", site);
  const tls = new FrontDoor({
    scheme: "https",
    host: "0.0.0.0",
    boundAddress: "::",
    hostnames: ["s.example"],
  });
  assert.equal(verdict(tls, { host: "s.example", origin: "https://s.example" }), "ok", "default port");
  assert.equal(verdict(tls, { host: "s.example:443", origin: "https://s.example" }), "ok");
});

test("loopback addresses", () => {
  for (const a of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "localhost", "[::1]"])
    assert.equal(isLoopback(a), true, a);
  for (const a of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.evil"])
    assert.equal(isLoopback(a), false, a);
});

test("a link from another site may open a console page; nothing else from there passes", () => {
  const door = new FrontDoor({ scheme: "http", host: "127.0.0.1", boundAddress: "127.0.0.1" });
  const nav = {
    host: "127.0.0.1:4566",
    "sec-fetch-site": "cross-site",
    "sec-fetch-mode": "navigate",
    "sec-fetch-dest": "document",
  };
  const at = (headers: Record<string, string>, method: string, url: string) =>
    door.refusal(req(headers, method, url))?.code ?? "ok";
  assert.equal(at(nav, "GET", "/console/images?x=1"), "ok");
  assert.equal(at(nav, "GET", "/console"), "ok");
  assert.equal(at(nav, "GET", "/"), "CrossOriginRequestDenied", "the API is not a console page");
  assert.equal(at(nav, "GET", "/consoles"), "CrossOriginRequestDenied");
  assert.equal(at(nav, "POST", "/console/"), "CrossOriginRequestDenied", "a cross-site form post");
  assert.equal(
    at({ ...nav, "sec-fetch-mode": "cors" }, "GET", "/console/"),
    "CrossOriginRequestDenied",
    "fetch()",
  );
  assert.equal(
    at({ ...nav, "sec-fetch-dest": "iframe" }, "GET", "/console/"),
    "CrossOriginRequestDenied",
    "framing",
  );
  assert.equal(at({ ...nav, origin: "http://evil.example" }, "GET", "/console/"), "CrossOriginRequestDenied");
  assert.equal(
    at({ ...nav, host: "evil.example" }, "GET", "/console/"),
    "InvalidHostHeader",
    "rebinding still fails",
  );
});
