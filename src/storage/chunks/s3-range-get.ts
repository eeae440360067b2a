// Ranged GetObject without the SDK's per-request machinery, for S3PackStore.read (a restore's hot
// path): the object's URL resolved once by the SDK's own endpoint rules (virtual-hosted or path
// style, as every other call of the client), each request signed with SigV4 using the client's
// credential provider (static keys, session tokens, the default chain), sent by KeepAliveGet and
// its body read straight into the caller's buffer. Failures come out shaped as the SDK's do
// (`name` the S3 error code, `$metadata.httpStatusCode`), so callers map them as one.
import type { S3Client } from "@aws-sdk/client-s3";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { KeepAliveGet, NetworkError } from "./keepalive-get.ts";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** Attempts per read, as the SDK's standard retry mode: transient answers and network errors. */
const ATTEMPTS = 3;
const RETRY_BASE_MS = 100;

export interface RangeGetTarget {
  bucket: string;
  region: string;
  /** As the client was given it; absent for AWS S3. */
  endpoint?: string;
  forcePathStyle: boolean;
  maxSockets: number;
  timeoutMs: number;
}

/** An S3 error answer or network failure, shaped as the SDK's errors. */
export type S3Failure = Error & { $metadata?: { httpStatusCode?: number }; code?: string };

export class S3RangeGet {
  readonly #http: KeepAliveGet;
  readonly #signer: SignatureV4;
  readonly #protocol: string;
  readonly #hostname: string;
  readonly #port: number | undefined;
  readonly #host: string;
  readonly #basePath: string;
  /** Where keys are appended: the bucket's URL, path style or virtual-hosted. */
  readonly baseUrl: string;

  /** Undefined when the endpoint needs what this path lacks (not SigV4, or not http(s)). */
  static create(s3: S3Client, t: RangeGetTarget): S3RangeGet | undefined {
    const endpoint = s3.config.endpointProvider({
      Bucket: t.bucket,
      Region: t.region,
      Endpoint: t.endpoint,
      ForcePathStyle: t.forcePathStyle,
      UseFIPS: false,
      UseDualStack: false,
      Accelerate: false,
    });
    const scheme = (endpoint.properties?.authSchemes as { name?: string; signingRegion?: string }[])?.[0];
    if (!["http:", "https:"].includes(endpoint.url.protocol) || (scheme && scheme.name !== "sigv4")) {
      return undefined;
    }
    return new S3RangeGet(s3, endpoint.url, scheme?.signingRegion ?? t.region, t);
  }

  private constructor(s3: S3Client, url: URL, signingRegion: string, t: RangeGetTarget) {
    const tls = url.protocol === "https:";
    this.#protocol = url.protocol;
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.#port = url.port ? Number(url.port) : undefined;
    this.#host = url.host;
    this.#basePath = url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`;
    this.baseUrl = `${url.protocol}//${url.host}${this.#basePath}`;
    this.#http = new KeepAliveGet(
      { tls, host: this.#hostname, port: this.#port ?? (tls ? 443 : 80) },
      { maxSockets: t.maxSockets, timeoutMs: t.timeoutMs },
    );
    this.#signer = new SignatureV4({
      credentials: s3.config.credentials,
      region: signingRegion,
      service: "s3",
      sha256: Hash.bind(null, "sha256"),
      // S3 signs the path as sent (each key segment escaped once).
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /**
   * Bytes [offset, offset + into.length) of `key`, read into `into`: true when the answer was
   * exactly those bytes, false when it was another size or range (a short object, a server that
   * ignored the Range). S3 error answers and network failures reject (see S3Failure).
   */
  async read(key: string, offset: number, into: Buffer): Promise<boolean> {
    const length = into.byteLength;
    const end = offset + length - 1;
    const path = this.#basePath + key.split("/").map(escapeSegment).join("/");
    for (let attempt = 1; ; attempt++) {
      const signed = await this.#signer.sign(
        new HttpRequest({
          method: "GET",
          protocol: this.#protocol,
          hostname: this.#hostname,
          port: this.#port,
          path,
          headers: {
            host: this.#host,
            range: `bytes=${offset}-${end}`,
            "x-amz-content-sha256": EMPTY_SHA256,
          },
        }),
      );
      let exact = false;
      try {
        const answer = await this.#http.get(path, signed.headers, (status, headers, size) => {
          // A server that ignored the Range sends the whole object: only the asked bytes will do.
          const range = headers["content-range"];
          const ranged =
            range?.startsWith(`bytes ${offset}-${end}/`) || (range === undefined && offset === 0);
          if (status >= 300) return "collect";
          exact = (status === 206 || status === 200) && ranged && size === length;
          return exact ? { into } : "abandon";
        });
        if (answer.status < 300) return exact;
        const failure = s3Error(answer.status, answer.body);
        if (attempt < ATTEMPTS && transient(answer.status)) await backoff(attempt);
        else throw failure;
      } catch (e) {
        if (!(e instanceof NetworkError) || attempt >= ATTEMPTS) throw e;
        await backoff(attempt);
      }
    }
  }

  close(): void {
    this.#http.close();
  }
}

/** As the SDK escapes a key's path segments (RFC 3986 unreserved characters kept). */
function escapeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function transient(status: number): boolean {
  return status === 429 || status >= 500;
}

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random())));
}

/** An error answer as the SDK would throw it: S3's <Code> as the name, its <Message>. */
function s3Error(status: number, body: Buffer): S3Failure {
  const xml = body.toString("utf8");
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1];
  const e: S3Failure = new Error(message || code || `HTTP ${status}`);
  e.name = code || (status === 404 ? "NotFound" : `HTTP${status}`);
  e.$metadata = { httpStatusCode: status };
  return e;
}
