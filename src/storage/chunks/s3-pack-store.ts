import { createHash } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import { StrataError } from "../../errors.ts";
import { PACK_ID, type PackInfo, type PackStore } from "./pack-store.ts";
import { S3RangeGet } from "./s3-range-get.ts";

export interface S3PackStoreConfig {
  /** e.g. http://127.0.0.1:7480 for Ceph RGW or MinIO; absent for AWS S3 itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Key prefix inside the bucket ("" or e.g. "strata/"; a missing trailing "/" is added). */
  prefix?: string;
  /** Static credentials; absent: the SDK's default chain (environment, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing (bucket in the path, not the host name); default: true unless AWS. */
  forcePathStyle?: boolean;
  /** Sockets per endpoint, enough for the parallel range reads of a restore (default 64). */
  maxSockets?: number;
  /** Keys per list page (default: the server's, 1000); tests page through a few packs with 2. */
  listPageSize?: number;
}

/** Packs as objects `<prefix>packs/<first two hex>/<id>`, one PutObject each, read by Range. */
export class S3PackStore implements PackStore {
  readonly description: string;
  readonly #s3: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #where: string;
  readonly #pageSize: number | undefined;
  /** Ranged reads without the SDK (see s3-range-get); undefined: the endpoint needs the SDK's. */
  readonly #ranges: S3RangeGet | undefined;

  constructor(config: S3PackStoreConfig) {
    this.#bucket = config.bucket;
    this.#pageSize = config.listPageSize;
    this.#prefix =
      config.prefix && !config.prefix.endsWith("/") ? `${config.prefix}/` : (config.prefix ?? "");
    const endpoint = config.endpoint ?? `https://s3.${config.region}.amazonaws.com`;
    this.#where = `bucket '${config.bucket}' at ${endpoint}`;
    this.description = `s3:${endpoint}/${config.bucket}/${this.#prefix}`;
    const isAws = !config.endpoint || /\.amazonaws\.com(\.cn)?(:\d+)?\/?$/.test(config.endpoint);
    const maxSockets = config.maxSockets ?? 64;
    const agent = { keepAlive: true, maxSockets };
    const forcePathStyle = config.forcePathStyle ?? !isAws;
    this.#s3 = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      credentials: config.credentials,
      forcePathStyle,
      // Ceph RGW (16) refuses the SDK's default aws-chunked uploads with a checksum trailer; the
      // body's integrity is checked with Content-MD5 instead, and chunks carry their own SHA-256.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: {
        httpAgent: new HttpAgent(agent),
        httpsAgent: new HttpsAgent(agent),
        connectionTimeout: 10_000,
        requestTimeout: 120_000,
      },
    });
    this.#ranges = S3RangeGet.create(this.#s3, {
      bucket: config.bucket,
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle,
      maxSockets,
      timeoutMs: 120_000,
    });
  }

  /**
   * Fails with a clear message when the bucket is missing, the credentials are refused or the
   * endpoint cannot be reached: for the server to call at start, before it accepts requests.
   */
  async check(): Promise<void> {
    try {
      await this.#s3.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (e) {
      const status = httpStatus(e);
      if (status === 404) throw new Error(`The S3 ${this.#where} does not exist (create it first)`);
      if (isMissingCredentials(e)) {
        throw new Error(`No credentials for the S3 ${this.#where}: ${describe(e)}`);
      }
      if (status === 403 || status === 401 || isAuthError(e)) {
        throw new Error(`The S3 ${this.#where} refuses our credentials (access denied): ${describe(e)}`);
      }
      if (isNetworkError(e)) {
        throw new Error(`Cannot reach the S3 endpoint for ${this.#where}: ${describe(e)}`);
      }
      const answer = status === undefined ? "" : ` (HTTP ${status})`;
      throw new Error(`The S3 ${this.#where} cannot be used${answer}: ${describe(e)}`);
    }
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    const Key = this.#key(id);
    const ContentMD5 = createHash("md5").update(bytes).digest("base64");
    try {
      await this.#s3.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key,
          Body: bytes,
          ContentLength: bytes.length,
          ContentMD5,
        }),
      );
    } catch (e) {
      throw this.#unavailable(e, `store pack ${id}`);
    }
  }

  async read(id: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const Key = this.#key(id);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StrataError("InvalidParameterValue", `Invalid range ${offset}+${length} of pack ${id}`);
    }
    try {
      if (length === 0) {
        await this.#s3.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
        return Buffer.alloc(0);
      }
      if (this.#ranges) {
        // Shared memory: the chunks in it go to the codec workers without a copy each.
        const out = into ?? Buffer.from(new SharedArrayBuffer(length));
        if (!(await this.#ranges.read(Key, offset, out))) throw this.#short(id);
        return out;
      }
      const end = offset + length - 1;
      const res = await this.#s3.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key, Range: `bytes=${offset}-${end}` }),
      );
      // A server that ignored the Range would send the whole object: only the asked bytes will do.
      const ranged = res.ContentRange?.startsWith(`bytes ${offset}-${end}/`);
      const out = await readExactly(res.Body as Readable | undefined, length);
      if (!out || !(ranged || (res.ContentRange === undefined && offset === 0))) throw this.#short(id);
      return out;
    } catch (e) {
      if (httpStatus(e) === 404 && !isNoSuchBucket(e)) {
        throw new StrataError("ChunkMissing", `Pack ${id} is missing from ${this.description}`);
      }
      if (httpStatus(e) === 416) throw this.#short(id);
      throw this.#unavailable(e, `read pack ${id}`);
    }
  }

  async delete(id: string): Promise<void> {
    const Key = this.#key(id);
    try {
      await this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }));
    } catch (e) {
      if (httpStatus(e) === 404 && !isNoSuchBucket(e)) return;
      throw this.#unavailable(e, `delete pack ${id}`);
    }
  }

  async *list(): AsyncIterable<PackInfo> {
    const Prefix = `${this.#prefix}packs/`;
    try {
      for await (const page of paginateListObjectsV2(
        { client: this.#s3, pageSize: this.#pageSize },
        { Bucket: this.#bucket, Prefix },
      )) {
        for (const o of page.Contents ?? []) {
          const [dir, id, ...rest] = (o.Key ?? "").slice(Prefix.length).split("/");
          if (rest.length > 0 || !PACK_ID.test(id ?? "") || dir !== id.slice(0, 2)) continue;
          yield { id, bytes: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) };
        }
      }
    } catch (e) {
      throw this.#unavailable(e, "list packs");
    }
  }

  async removeIncompletePuts(olderThanMs: number): Promise<number> {
    const before = Date.now() - olderThanMs;
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.#s3.send(
          new ListMultipartUploadsCommand({
            Bucket: this.#bucket,
            Prefix: `${this.#prefix}packs/`,
            KeyMarker,
            UploadIdMarker,
            MaxUploads: this.#pageSize,
          }),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated.getTime() > before) continue;
          try {
            await this.#s3.send(
              new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: u.Key, UploadId: u.UploadId }),
            );
            removed++;
          } catch (e) {
            // Completed or aborted by another process meanwhile: nothing left to remove.
            if (httpStatus(e) !== 404) throw e;
          }
        }
        if (!page.IsTruncated) return removed;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (e) {
      throw this.#unavailable(e, "remove unfinished uploads");
    }
  }

  /** Closes the client's sockets (the store is unusable afterwards). */
  close(): void {
    this.#ranges?.close();
    this.#s3.destroy();
  }

  #key(id: string): string {
    if (!PACK_ID.test(id)) throw new StrataError("InvalidParameterValue", `Invalid pack id '${id}'`);
    return `${this.#prefix}packs/${id.slice(0, 2)}/${id}`;
  }

  #short(id: string): StrataError {
    return new StrataError("ChunkCorrupt", `Pack ${id} in ${this.description} is shorter than its index`);
  }

  /**
   * A missing bucket, refused credentials or an unreachable endpoint as one error that says where;
   * other S3 errors (and StrataErrors already raised) pass through as they are.
   */
  #unavailable(e: unknown, what: string): unknown {
    if (e instanceof StrataError) return e;
    const status = httpStatus(e);
    const refused = status === 401 || status === 403 || isAuthError(e) || isMissingCredentials(e);
    if (isNetworkError(e) || refused || isNoSuchBucket(e)) {
      return new StrataError("ServiceUnavailable", `Cannot ${what} in the S3 ${this.#where}: ${describe(e)}`);
    }
    return e;
  }
}

/**
 * The body copied straight into one buffer of the expected size (half the CPU and garbage of the
 * SDK's transformToByteArray, which collects and concatenates); undefined if its size differs.
 */
// Shared memory: the chunks in it go to the codec workers without a copy each.
async function readExactly(body: Readable | undefined, length: number): Promise<Buffer | undefined> {
  const out = Buffer.from(new SharedArrayBuffer(length));
  let filled = 0;
  for await (const chunk of body ?? []) {
    const b = chunk as Buffer;
    if (filled + b.length > length) {
      body?.destroy();
      return undefined;
    }
    b.copy(out, filled);
    filled += b.length;
  }
  return filled === length ? out : undefined;
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** No HTTP answer at all: refused, reset, timed out, unknown host. */
function isNetworkError(e: unknown): boolean {
  if (httpStatus(e) !== undefined) return false;
  const err = e as { name?: string; code?: string };
  return /^E[A-Z_]+$/.test(err?.code ?? "") || ["TimeoutError", "RequestTimeout"].includes(err?.name ?? "");
}

function isAuthError(e: unknown): boolean {
  const name = (e as { name?: string })?.name ?? "";
  return ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden"].includes(name);
}

function isMissingCredentials(e: unknown): boolean {
  return (e as { name?: string })?.name === "CredentialsProviderError";
}

function isNoSuchBucket(e: unknown): boolean {
  return (e as { name?: string })?.name === "NoSuchBucket";
}

/** The most telling part of an SDK or network error (HeadBucket's have no body: just a status). */
function describe(e: unknown): string {
  const err = e as { name?: string; message?: string };
  const status = httpStatus(e);
  if (err?.message && !/^Unknown(Error)?$/.test(err.message)) return err.message;
  if (err?.name && !/^Unknown(Error)?$/.test(err.name)) return err.name;
  return status ? `HTTP ${status}` : String(e);
}
