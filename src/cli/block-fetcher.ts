// GetSnapshotBlock without the SDK's per-request machinery (middleware stack, schema serde, the
// body copied into one buffer): a SigV4-signed GET on a keep-alive agent, its body hashed as it
// arrives. An export makes one such request per block, and on a busy machine the SDK's share of
// each cost about as much CPU as moving the block. Anything but a clean 200 is left to the SDK
// (its retries, its errors): the caller falls back to it.
import { createHash } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { EBSClient } from "@aws-sdk/client-ebs";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Provider } from "@smithy/types";
import { type RawAnswer, rawRequest } from "./raw-http.ts";

export interface FetchedBlock {
  /** The body as it arrived, in pieces (no copy into one buffer). */
  pieces: Buffer[];
  bytes: number;
  /** SHA-256 of the body, base64. */
  sha256: string;
  /** x-amz-Checksum as sent. */
  checksum: string | undefined;
  algorithm: string | undefined;
  dataLength: number | undefined;
}

/** Where the SDK sent a request: protocol, host, port and the path before `/snapshots`. */
export interface EndpointOf {
  protocol: string;
  hostname: string;
  port?: number;
  basePath: string;
}

/** An HttpRequest the SDK built for `/snapshots/...`, as an endpoint to send more to. */
export function endpointOf(r: {
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
}): EndpointOf {
  const at = r.path.indexOf("/snapshots/");
  return {
    protocol: r.protocol,
    hostname: r.hostname,
    port: r.port,
    basePath: at > 0 ? r.path.slice(0, at) : "",
  };
}

export class BlockFetcher {
  readonly #endpoint: EndpointOf;
  readonly #signer: SignatureV4;
  readonly #agent: HttpAgent;
  readonly #https: boolean;

  constructor(ebs: EBSClient, endpoint: EndpointOf, region: string, concurrency: number) {
    this.#endpoint = endpoint;
    this.#https = endpoint.protocol === "https:";
    const options = { keepAlive: true, maxSockets: concurrency };
    this.#agent = this.#https ? new HttpsAgent(options) : new HttpAgent(options);
    this.#signer = new SignatureV4({
      credentials: ebs.config.credentials as Provider<AwsCredentialIdentity>,
      region,
      service: "ebs",
      sha256: Hash.bind(null, "sha256"),
    });
  }

  /** The block, or null when the answer was anything but a 200 (the caller asks the SDK then). */
  async get(snapshotId: string, index: number, token: string): Promise<FetchedBlock | null> {
    const e = this.#endpoint;
    const host = e.port ? `${e.hostname}:${e.port}` : e.hostname;
    const path = `${e.basePath}/snapshots/${encodeURIComponent(snapshotId)}/blocks/${index}`;
    const signed = await this.#signer.sign(
      new HttpRequest({
        method: "GET",
        protocol: e.protocol,
        hostname: e.hostname,
        port: e.port,
        path,
        query: { blockToken: token },
        headers: { host },
      }),
    );
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const send = this.#https ? httpsRequest : httpRequest;
      const req = send({
        agent: this.#agent,
        protocol: e.protocol,
        hostname: e.hostname,
        port: e.port,
        method: "GET",
        path: `${path}?blockToken=${encodeURIComponent(token)}`,
        headers: signed.headers,
      });
      req.once("response", resolve);
      req.once("error", reject);
      req.end();
    });
    if (res.statusCode !== 200) {
      res.resume();
      return null;
    }
    const hash = createHash("sha256");
    const pieces: Buffer[] = [];
    let bytes = 0;
    for await (const piece of res as AsyncIterable<Buffer>) {
      hash.update(piece);
      pieces.push(piece);
      bytes += piece.byteLength;
    }
    const header = (name: string) => {
      const v = res.headers[name];
      return typeof v === "string" ? v : undefined;
    };
    const length = header("x-amz-data-length");
    return {
      pieces,
      bytes,
      sha256: hash.digest("base64"),
      checksum: header("x-amz-checksum"),
      algorithm: header("x-amz-checksum-algorithm"),
      dataLength: length === undefined ? undefined : Number(length),
    };
  }

  /** Whether streamBlocks can be used here (the raw client speaks plain HTTP only). */
  get canStream(): boolean {
    return !this.#https;
  }

  /**
   * Strata's block stream (src/server/block-stream.ts) of `blocks`, its body handed to `onBody`
   * as it arrives (from a reused buffer); `anyOrder` lets the server choose the blocks' order.
   */
  async streamBlocks(
    snapshotId: string,
    blocks: { BlockIndex?: number; BlockToken?: string }[],
    onBody: (piece: Uint8Array) => void,
    o: { anyOrder?: boolean } = {},
  ): Promise<RawAnswer> {
    const e = this.#endpoint;
    const host = e.port ? `${e.hostname}:${e.port}` : e.hostname;
    const path = `${e.basePath}/snapshots/${encodeURIComponent(snapshotId)}/strata-blocks`;
    const body = Buffer.from(
      JSON.stringify({
        Blocks: blocks.map((b) => ({ BlockIndex: b.BlockIndex, BlockToken: b.BlockToken })),
        ...(o.anyOrder ? { AnyOrder: true } : {}),
      }),
    );
    const signed = await this.#signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: e.protocol,
        hostname: e.hostname,
        port: e.port,
        path,
        headers: { host, "content-type": "application/json" },
        body,
      }),
    );
    return rawRequest(
      { host: e.hostname.replace(/^\[(.*)\]$/, "$1"), port: e.port ?? 80 },
      { method: "POST", path, headers: signed.headers, body },
      onBody,
    );
  }

  close(): void {
    this.#agent.destroy();
  }
}
