import { writeFileSync } from 'node:fs';
import { prng as mulberry32 } from './random.js';

/**
 * Writes a tiny llama-architecture GGUF (GGUF v3, F32 tensors, a byte-level SentencePiece vocabulary)
 * that llama.cpp loads and runs, so tests exercise the real native runtime without downloading a
 * model. Layout per llama.cpp's docs/gguf.md: header, key/value metadata, tensor infos, padding to
 * `general.alignment`, tensor data; tensor dims are ggml's `ne` order (innermost first).
 *
 * The weights are random (seeded), with one deliberate skew so tests are deterministic: every token
 * embedding carries the same large component on dimension 0, so the final hidden state points the
 * same way whatever the input, and the output row of each `preferred` token gets a falling score on
 * that dimension. Greedy sampling therefore picks the most preferred token the grammar allows at each
 * step: `preferred: ['"', '}']` closes strings and objects at once, so a JSON-grammar tool call finishes
 * in a few tokens. Free text (no grammar) repeats the top preference and never emits end-of-sequence.
 */

export interface TinyGgufOptions {
  /** Characters (single bytes) in falling order of preference; the rest stay random. */
  preferred?: string[];
  seed?: number;
  embeddingLength?: number;
  blockCount?: number;
  feedForwardLength?: number;
  headCount?: number;
  contextLength?: number;
}

const TYPE = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
const ALIGNMENT = 32;
/** Tokens: 0 <unk>, 1 <s>, 2 </s>, then one per byte value. */
const BYTE_TOKEN_OFFSET = 3;

export function byteToken(char: string): number {
  return BYTE_TOKEN_OFFSET + Buffer.from(char, 'utf8')[0]!;
}

export function writeTinyGguf(path: string, options: TinyGgufOptions = {}): { bytes: number; vocabulary: number } {
  const buffer = tinyGguf(options);
  writeFileSync(path, buffer);
  return { bytes: buffer.length, vocabulary: BYTE_TOKEN_OFFSET + 256 };
}

export function tinyGguf(options: TinyGgufOptions = {}): Buffer {
  const embd = options.embeddingLength ?? 64;
  const blocks = options.blockCount ?? 2;
  const ff = options.feedForwardLength ?? 128;
  const heads = options.headCount ?? 4;
  const context = options.contextLength ?? 32768;
  const random = mulberry32(options.seed ?? 1234);
  const noise = (scale: number) => (random() * 2 - 1) * scale;

  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`)];
  const vocabulary = tokens.length;
  const tokenTypes = tokens.map((_, id) => (id === 0 ? 2 : id < BYTE_TOKEN_OFFSET ? 3 : 6)); // unknown, control, byte

  const tensors: Array<{ name: string; dims: number[]; data: Float32Array }> = [];
  const add = (name: string, dims: number[], fill: (index: number) => number) => {
    const data = new Float32Array(dims.reduce((product, dim) => product * dim, 1));
    for (let index = 0; index < data.length; index++) data[index] = fill(index);
    tensors.push({ name, dims, data });
  };
  add('token_embd.weight', [embd, vocabulary], (index) => (index % embd === 0 ? 8 : noise(0.1)));
  const preference = new Map((options.preferred ?? []).map((char, rank) => [byteToken(char), rank]));
  add('output.weight', [embd, vocabulary], (index) => {
    const token = Math.floor(index / embd);
    if (index % embd !== 0) return noise(0.02);
    const rank = preference.get(token);
    return rank === undefined ? noise(0.05) : 4 - rank * 0.1;
  });
  add('output_norm.weight', [embd], () => 1);
  for (let block = 0; block < blocks; block++) {
    const small = () => noise(0.02);
    add(`blk.${block}.attn_norm.weight`, [embd], () => 1);
    add(`blk.${block}.attn_q.weight`, [embd, embd], small);
    add(`blk.${block}.attn_k.weight`, [embd, embd], small);
    add(`blk.${block}.attn_v.weight`, [embd, embd], small);
    add(`blk.${block}.attn_output.weight`, [embd, embd], small);
    add(`blk.${block}.ffn_norm.weight`, [embd], () => 1);
    add(`blk.${block}.ffn_gate.weight`, [embd, ff], small);
    add(`blk.${block}.ffn_up.weight`, [embd, ff], small);
    add(`blk.${block}.ffn_down.weight`, [ff, embd], small);
  }

  const metadata: Array<[string, number, unknown]> = [
    ['general.architecture', TYPE.STRING, 'llama'],
    ['general.name', TYPE.STRING, 'codebench-tiny-test'],
    ['general.alignment', TYPE.UINT32, ALIGNMENT],
    ['llama.context_length', TYPE.UINT32, context],
    ['llama.embedding_length', TYPE.UINT32, embd],
    ['llama.block_count', TYPE.UINT32, blocks],
    ['llama.feed_forward_length', TYPE.UINT32, ff],
    ['llama.attention.head_count', TYPE.UINT32, heads],
    ['llama.attention.head_count_kv', TYPE.UINT32, heads],
    ['llama.attention.layer_norm_rms_epsilon', TYPE.FLOAT32, 1e-5],
    ['llama.rope.dimension_count', TYPE.UINT32, embd / heads],
    ['llama.vocab_size', TYPE.UINT32, vocabulary],
    ['tokenizer.ggml.model', TYPE.STRING, 'llama'],
    ['tokenizer.ggml.tokens', TYPE.ARRAY, { type: TYPE.STRING, values: tokens }],
    ['tokenizer.ggml.scores', TYPE.ARRAY, { type: TYPE.FLOAT32, values: tokens.map(() => 0) }],
    ['tokenizer.ggml.token_type', TYPE.ARRAY, { type: TYPE.INT32, values: tokenTypes }],
    ['tokenizer.ggml.unknown_token_id', TYPE.UINT32, 0],
    ['tokenizer.ggml.bos_token_id', TYPE.UINT32, 1],
    ['tokenizer.ggml.eos_token_id', TYPE.UINT32, 2],
    ['tokenizer.ggml.add_bos_token', TYPE.BOOL, true],
    ['tokenizer.ggml.add_eos_token', TYPE.BOOL, false],
  ];

  const out = new ByteWriter();
  out.raw(Buffer.from('GGUF', 'ascii'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, type, value] of metadata) {
    out.string(key);
    out.u32(type);
    out.value(type, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(0); // GGML_TYPE_F32
    out.u64(offset);
    offset += align(tensor.data.byteLength);
  }
  out.pad(ALIGNMENT);
  for (const tensor of tensors) {
    out.raw(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    out.pad(ALIGNMENT);
  }
  return out.toBuffer();
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
}

class ByteWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  raw(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  u32(value: number): void {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(value);
    this.raw(bytes);
  }
  u64(value: number): void {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt(value));
    this.raw(bytes);
  }
  string(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.u64(bytes.length);
    this.raw(bytes);
  }
  value(type: number, value: unknown): void {
    if (type === TYPE.STRING) return this.string(value as string);
    if (type === TYPE.UINT32) return this.u32(value as number);
    if (type === TYPE.BOOL) return this.raw(Buffer.from([value ? 1 : 0]));
    if (type === TYPE.INT32 || type === TYPE.FLOAT32) {
      const bytes = Buffer.alloc(4);
      if (type === TYPE.INT32) bytes.writeInt32LE(value as number);
      else bytes.writeFloatLE(value as number);
      return this.raw(bytes);
    }
    const array = value as { type: number; values: unknown[] };
    this.u32(array.type);
    this.u64(array.values.length);
    for (const item of array.values) this.value(array.type, item);
  }
  pad(alignment: number): void {
    const extra = align(this.length) - this.length;
    if (alignment === ALIGNMENT && extra > 0) this.raw(Buffer.alloc(extra));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

