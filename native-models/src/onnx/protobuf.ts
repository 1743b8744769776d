// A minimal protocol-buffers writer, just what ONNX serialisation needs. Large byte payloads (tensor
// data) are kept by reference as separate chunks, so a multi-GB model is never copied into one buffer.

/** An encoded message: a list of byte chunks and their total length. */
export class ProtoMessage {
  readonly chunks: Uint8Array[] = [];
  length = 0;
  private scratch = new Uint8Array(256);
  private used = 0;

  /** A varint field (wire type 0); negative values are written as 64-bit two's complement. */
  varint(field: number, value: number | bigint): this {
    this.key(field, 0);
    this.rawVarint(value);
    return this;
  }

  /** A 32-bit float field (wire type 5). */
  float(field: number, value: number): this {
    this.key(field, 5);
    this.reserve(4);
    new DataView(this.scratch.buffer).setFloat32(this.used, value, true);
    this.used += 4;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A length-delimited field; the bytes are referenced, not copied, when they are large. */
  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.rawVarint(value.length);
    this.append(value);
    return this;
  }

  /** An embedded message field. */
  message(field: number, value: ProtoMessage): this {
    value.flush();
    this.key(field, 2);
    this.rawVarint(value.length);
    this.flush();
    for (const c of value.chunks) this.pushChunk(c);
    return this;
  }

  /** A packed repeated varint field (ints, int64 dims). */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoMessage();
    for (let i = 0; i < values.length; i++) inner.rawVarint(values[i]);
    inner.flush();
    this.key(field, 2);
    this.rawVarint(inner.length);
    this.flush();
    for (const c of inner.chunks) this.pushChunk(c);
    return this;
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i];
    return this.bytes(field, new Uint8Array(data.buffer));
  }

  /** Ends writing (pending small writes become a chunk, and `length` is exact). Safe to call again. */
  flush(): this {
    if (this.used > 0) {
      const pending = this.scratch.slice(0, this.used);
      this.used = 0;
      this.pushChunk(pending);
    }
    return this;
  }

  /** Everything in one buffer; only for models small enough to hold twice in memory. */
  toBytes(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  private key(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  private rawVarint(value: number | bigint): void {
    this.reserve(10);
    if (typeof value === 'number' && value >= 0 && value <= 0x7fffffff) {
      let v = value;
      while (v >= 0x80) { this.scratch[this.used++] = (v & 0x7f) | 0x80; v >>>= 7; }
      this.scratch[this.used++] = v;
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) { this.scratch[this.used++] = Number(v & 0x7fn) | 0x80; v >>= 7n; }
    this.scratch[this.used++] = Number(v);
  }

  private reserve(n: number): void {
    if (this.used + n > this.scratch.length) this.flush();
  }

  private append(value: Uint8Array): void {
    if (value.length <= 64) {
      this.reserve(value.length);
      this.scratch.set(value, this.used);
      this.used += value.length;
    } else {
      this.flush();
      this.pushChunk(value);
    }
  }

  private pushChunk(c: Uint8Array): void {
    this.chunks.push(c);
    this.length += c.length;
  }
}
