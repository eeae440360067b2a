import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { StrataError } from "../errors.ts";
import { Engine } from "../services/engine.ts";
import { handleJsonApi } from "./json-api.ts";

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  regions?: string[];
}

export interface RunningServer {
  engine: Engine;
  http: Server;
  url: string;
  close(): Promise<void>;
}

export const VERSION = "0.1.0";

/** The Strata daemon: the engine (with crash recovery done before listening) behind HTTP. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const engine = await Engine.open({ dataDir: options.dataDir, regions: options.regions });
  const http = createServer((req, res) => {
    const started = performance.now();
    res.on("finish", () => {
      const ms = (performance.now() - started).toFixed(1);
      if (process.env.STRATA_LOG_REQUESTS !== "0")
        console.log(`${req.method} ${req.url} ${res.statusCode} ${ms}ms`);
    });
    if (req.url === "/health" || req.url === "/_strata/health") {
      const body = JSON.stringify({ status: "ok", version: VERSION, regions: [...engine.regions.keys()] });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
      return;
    }
    handleJsonApi(engine, req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404, { "content-type": "application/json" });
        const err = new StrataError("InvalidAction", `No route for ${req.method} ${req.url}`);
        res.end(JSON.stringify({ error: { code: err.code, message: err.message } }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, resolve);
  });
  const { port } = http.address() as AddressInfo;
  return {
    engine,
    http,
    url: `http://${options.host}:${port}`,
    async close() {
      await new Promise<void>((r) => http.close(() => r()));
      http.closeAllConnections();
      await engine.close();
    },
  };
}
