// The web console's static files (built by scripts/build-console.ts into dist/console), served
// at /console/ on the API's own origin, so the console's SDK calls are same-origin and pass the
// front door like any client's. Files are read and compressed once at start. Hashed files under
// assets/ never change, so browsers may keep them for a year; index.html is revalidated each time.
// Every other path under /console/ is the single-page app's route and gets index.html.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

export const CONSOLE_PATH = "/console";
const DEFAULT_DIR = join(import.meta.dirname, "../../dist/console");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".ico": "image/x-icon",
};

// The console needs nothing but its own origin: no CDN, no inline script, no framing.
// Cloudscape sets style attributes and inlines its fonts as data: URLs.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; " +
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

interface Asset {
  type: string;
  etag: string;
  cache: string;
  raw: Buffer;
  gzip: Buffer;
  br: Buffer;
}

export class ConsoleAssets {
  readonly #files = new Map<string, Asset>();

  constructor(dir = DEFAULT_DIR) {
    if (!existsSync(join(dir, "index.html"))) return;
    for (const file of walk(dir)) {
      const path = `/${relative(dir, file)}`;
      if (path.startsWith("/.")) continue;
      const raw = readFileSync(file);
      const type = TYPES[extname(file)] ?? "application/octet-stream";
      const compressible = /^text\/|svg|json/.test(type);
      this.#files.set(path, {
        type,
        etag: `"${createHash("sha256").update(raw).digest("base64url").slice(0, 22)}"`,
        cache: path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        raw,
        gzip: compressible ? gzipSync(raw, { level: 9 }) : raw,
        br: compressible ? brotliCompressSync(raw) : raw,
      });
    }
  }

  /** Whether the console was built (setup builds it; a checkout without it serves a hint). */
  get built(): boolean {
    return this.#files.has("/index.html");
  }

  static handles(path: string): boolean {
    return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
  }

  serve(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("The console's files are read with GET.\n");
      return;
    }
    if (path === CONSOLE_PATH) {
      res.writeHead(308, { location: `${CONSOLE_PATH}/` });
      res.end();
      return;
    }
    if (!this.built) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end("The web console is not built: run scripts/setup.sh (or bin/node scripts/build-console.ts).\n");
      return;
    }
    // Only files read at start are served (a map lookup): no path reaches the file system.
    const rel = safeDecode(path.slice(CONSOLE_PATH.length)) || "/";
    let asset = this.#files.get(rel);
    if (!asset) {
      // A missing hashed file is a 404 (a stale page asking for an old bundle), not the app.
      if (rel.startsWith("/assets/") || extname(rel) !== "" || rel.includes("/.")) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS });
        res.end("Not found\n");
        return;
      }
      asset = this.#files.get("/index.html")!;
    }
    const headers: Record<string, string> = {
      "content-type": asset.type,
      "cache-control": asset.cache,
      etag: asset.etag,
      vary: "accept-encoding",
      ...SECURITY_HEADERS,
    };
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const accepts = String(req.headers["accept-encoding"] ?? "");
    let body = asset.raw;
    if (asset.br !== asset.raw && /\bbr\b/.test(accepts)) {
      body = asset.br;
      headers["content-encoding"] = "br";
    } else if (asset.gzip !== asset.raw && /\bgzip\b/.test(accepts)) {
      body = asset.gzip;
      headers["content-encoding"] = "gzip";
    }
    headers["content-length"] = String(body.byteLength);
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : body);
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
