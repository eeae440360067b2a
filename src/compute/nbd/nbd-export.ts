// What the NBD server serves: a byte range with read/write/flush (and optionally trim).

/**
 * One export. Offsets and lengths are always within `sizeBytes`. The server advertises
 * NBD_FLAG_CAN_MULTI_CONN, so `flush()` must make durable the writes made through any connection
 * to the same volume, not only this object's (true when every export of a volume shares its store).
 */
export interface NbdExport {
  readonly sizeBytes: number;
  readonly readOnly?: boolean;
  /** Exactly `length` bytes; the buffer is sent as is, so it must not change afterwards. */
  read(offset: number, length: number): Promise<Buffer>;
  /** `data` must not be modified (it may be shared, e.g. by the pieces of a WRITE_ZEROES). */
  write(offset: number, data: Buffer): Promise<void>;
  flush(): Promise<void>;
  /** Advisory: the range may read back as zeros or old data afterwards. */
  trim?(offset: number, length: number): Promise<void>;
}

export interface NbdServerOptions {
  /** Resolve an export name to an export (or undefined: NBD_REP_ERR_UNKNOWN). Called per OPT_GO/INFO/EXPORT_NAME. May be async. */
  resolve(name: string): NbdExport | undefined | Promise<NbdExport | undefined>;
  log?: (msg: string) => void;
}
