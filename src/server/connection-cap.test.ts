import assert from "node:assert/strict";
import { test } from "node:test";
import { httpConnectionCap } from "./connection-cap.ts";

const limits = (soft: string, hard = soft) =>
  `Limit                     Soft Limit           Hard Limit           Units     \n` +
  `Max processes             63704                63704                processes \n` +
  `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     \n`;

test("HTTP connections get what the descriptor limit leaves after volume files and a reserve", () => {
  assert.equal(httpConnectionCap(128, limits("1024", "4096")), 1024 - 128 - 256);
  assert.equal(httpConnectionCap(128, limits("20000")), 20000 - 128 - 256);
  assert.equal(httpConnectionCap(32, limits("1024")), 1024 - 32 - 256);
});

test("a tight limit still leaves a few connections; an unreadable or unlimited one sets no cap", () => {
  assert.equal(httpConnectionCap(128, limits("256")), 64);
  assert.equal(httpConnectionCap(128, limits("unlimited")), undefined);
  assert.equal(httpConnectionCap(128, null), undefined);
});
