/**
 * llama2.c checkpoints → Hugging Face-named tensors and a LlamaConfig.
 *
 * Legacy layout (llama2.c `export.py` version 0): seven int32 (dim, hidden_dim, n_layers, n_heads,
 * n_kv_heads, vocab_size, max_seq_len; a negative vocab_size means an unshared classifier), then
 * float32 weights, each kind for all layers together: token embedding, attention RMSNorm, wq, wk, wv,
 * wo, FFN RMSNorm, w1, w2, w3, final RMSNorm, two RoPE tables [max_seq_len, head_dim/2] (unused),
 * then the classifier when unshared. Version 1 (magic "ak42", 256-byte header) is read too.
 *
 * llama2.c rotates interleaved pairs (x[2i], x[2i+1]) of each head; HF Llama rotates halves
 * (x[i], x[i + head_dim/2]). So wq and wk rows are permuted per head: HF row i of a head is
 * llama2.c row 2i, HF row head_dim/2 + i is llama2.c row 2i + 1. Everything else keeps its order.
 * w1 = gate_proj, w3 = up_proj, w2 = down_proj.
 * @module
 */
import { fstatSync } from 'node:fs';
import { FormatError } from './errors.ts';
import { readAt, withFile, writeAll, writeFileAtomic } from './file-io.ts';
import type { LlamaConfig } from './hf-config.ts';
import { numel, RAW_DTYPE_BYTES, type RawTensor } from './raw-tensor.ts';
import type { TensorInfo, TensorSource } from './tensor-source.ts';

/** The seven header integers. */
export interface Llama2cHeader {
  dim: number;
  hidden_dim: number;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  /** Always positive here; see `shared_classifier`. */
  vocab_size: number;
  max_seq_len: number;
  shared_classifier: boolean;
  /** 0 = legacy, 1 = "ak42" fp32. */
  version: 0 | 1;
}

const MAGIC = 0x616b3432;

/**
 * Reorders the rows of each head between llama2.c's interleaved RoPE layout and HF's rotate-half
 * layout. 'toHf': out row h·hd + i ← in row h·hd + 2i and out row h·hd + hd/2 + i ← in row h·hd + 2i + 1
 * (as HF's convert_llama_weights_to_hf `permute`); 'toLlama2c' is its inverse.
 */
export function permuteRopeRows(t: RawTensor, nHeads: number, direction: 'toHf' | 'toLlama2c'): RawTensor {
  const [rows, cols] = t.shape as [number, number];
  if (t.shape.length !== 2 || rows % nHeads !== 0 || (rows / nHeads) % 2 !== 0) throw new RangeError(`lion: cannot permute RoPE rows of [${t.shape.join(', ')}] over ${nHeads} heads`);
  const hd = rows / nHeads;
  const rowBytes = cols * RAW_DTYPE_BYTES[t.dtype];
  const out = new Uint8Array(t.data.byteLength);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (const j of [0, 1]) {
        const hfRow = h * hd + j * (hd / 2) + i;
        const l2cRow = h * hd + 2 * i + j;
        const [src, dst] = direction === 'toHf' ? [l2cRow, hfRow] : [hfRow, l2cRow];
        out.set(t.data.subarray(src * rowBytes, (src + 1) * rowBytes), dst * rowBytes);
      }
    }
  }
  return { dtype: t.dtype, shape: [rows, cols], data: out };
}

interface Slot {
  name: string;
  shape: number[];
  /** Byte offset in the file. */
  offset: number;
  /** Heads to permute over (wq, wk), or 0. */
  ropeHeads: number;
}

/** The HF names, shapes and file offsets of every tensor, in file order. */
function layout(h: Llama2cHeader): { slots: Slot[]; size: number } {
  const { dim, hidden_dim: hidden, n_layers: L, n_heads: nh, n_kv_heads: nkv, vocab_size: vocab, max_seq_len: seq } = h;
  const hs = dim / nh;
  const kvDim = nkv * hs;
  const slots: Slot[] = [];
  let offset = h.version === 0 ? 28 : 256;
  const one = (name: string, shape: number[], ropeHeads = 0): void => {
    slots.push({ name, shape, offset, ropeHeads });
    offset += numel(shape) * 4;
  };
  const perLayer = (suffix: string, shape: number[], ropeHeads = 0): void => {
    for (let i = 0; i < L; i++) one(`model.layers.${i}.${suffix}`, shape, ropeHeads);
  };
  const attnAndMlp = (): void => {
    perLayer('self_attn.q_proj.weight', [dim, dim], nh);
    perLayer('self_attn.k_proj.weight', [kvDim, dim], nkv);
    perLayer('self_attn.v_proj.weight', [kvDim, dim]);
    perLayer('self_attn.o_proj.weight', [dim, dim]);
  };
  if (h.version === 0) {
    one('model.embed_tokens.weight', [vocab, dim]);
    perLayer('input_layernorm.weight', [dim]);
    attnAndMlp();
    perLayer('post_attention_layernorm.weight', [dim]);
    perLayer('mlp.gate_proj.weight', [hidden, dim]);
    perLayer('mlp.down_proj.weight', [dim, hidden]);
    perLayer('mlp.up_proj.weight', [hidden, dim]);
    one('model.norm.weight', [dim]);
    offset += 2 * seq * (hs / 2) * 4; // freq_cis_real, freq_cis_imag: unused
  } else {
    perLayer('input_layernorm.weight', [dim]);
    perLayer('post_attention_layernorm.weight', [dim]);
    one('model.norm.weight', [dim]);
    one('model.embed_tokens.weight', [vocab, dim]);
    attnAndMlp();
    perLayer('mlp.gate_proj.weight', [hidden, dim]);
    perLayer('mlp.down_proj.weight', [dim, hidden]);
    perLayer('mlp.up_proj.weight', [hidden, dim]);
  }
  if (!h.shared_classifier) one('lm_head.weight', [vocab, dim]);
  return { slots, size: offset };
}

function readHeader(fd: number, file: string): Llama2cHeader {
  const size = fstatSync(fd).size;
  if (size < 28) throw new FormatError(file, `not a llama2.c checkpoint: ${size} bytes`);
  const head = readAt(fd, 0, Math.min(size, 256), file, 'the header');
  const v = new DataView(head.buffer);
  let version: 0 | 1 = 0;
  let at = 0;
  if (v.getUint32(0, true) === MAGIC) {
    const ver = v.getInt32(4, true);
    if (ver !== 1) throw new FormatError(file, `llama2.c checkpoint version ${ver} is not supported (only the fp32 formats: legacy and version 1)`, { hint: 'export with llama2.c export.py --version 1 or the legacy format' });
    version = 1;
    at = 8;
  }
  const ints = Array.from({ length: 7 }, (_, i) => v.getInt32(at + 4 * i, true));
  const [dim, hidden, layers, heads, kvHeads, vocabRaw, seq] = ints as [number, number, number, number, number, number, number];
  const shared = version === 1 ? v.getUint8(at + 28) !== 0 : vocabRaw > 0;
  const h: Llama2cHeader = { dim, hidden_dim: hidden, n_layers: layers, n_heads: heads, n_kv_heads: kvHeads, vocab_size: Math.abs(vocabRaw), max_seq_len: seq, shared_classifier: shared, version };
  const bad = (what: string): FormatError => new FormatError(file, `not a valid llama2.c header (${what}): ${JSON.stringify(ints)}`);
  if (!ints.every((x, i) => (i === 5 ? x !== 0 : x > 0))) throw bad('every field must be positive');
  if (dim % heads !== 0 || (dim / heads) % 2 !== 0) throw bad('dim must split into heads of even width');
  if (heads % kvHeads !== 0) throw bad('n_heads must be a multiple of n_kv_heads');
  return h;
}

/** A llama2.c checkpoint read lazily as HF-named float32 tensors. */
export class Llama2cCheckpoint implements TensorSource {
  readonly path: string;
  readonly header: Llama2cHeader;
  readonly config: LlamaConfig;
  readonly #slots: Map<string, Slot>;

  private constructor(path: string, header: Llama2cHeader, slots: Slot[]) {
    this.path = path;
    this.header = header;
    this.#slots = new Map(slots.map((s) => [s.name, s]));
    this.config = llama2cConfig(header);
  }

  /** Reads and checks the header and the file size. @throws FormatError for a truncated or oversized file. */
  static open(path: string): Llama2cCheckpoint {
    return withFile(path, (fd) => {
      const header = readHeader(fd, path);
      const { slots, size: need } = layout(header);
      const size = fstatSync(fd).size;
      if (size < need) {
        const cut = slots.find((s) => s.offset + numel(s.shape) * 4 > size);
        throw new FormatError(path, `file is truncated: the header needs ${need} bytes, the file has ${size}`, cut === undefined ? {} : { key: cut.name, keyKind: 'tensor' });
      }
      if (size > need) throw new FormatError(path, `file has ${size - need} bytes more than its header describes (${need}); not a llama2.c fp32 checkpoint, or a wrong header`);
      return new Llama2cCheckpoint(path, header, slots);
    });
  }

  names(): string[] {
    return [...this.#slots.keys()];
  }

  has(name: string): boolean {
    return this.#slots.has(name);
  }

  info(name: string): TensorInfo {
    const s = this.#slot(name);
    return { dtype: 'F32', shape: [...s.shape], byteLength: numel(s.shape) * 4 };
  }

  read(name: string): RawTensor {
    const s = this.#slot(name);
    const data = withFile(this.path, (fd) => readAt(fd, s.offset, numel(s.shape) * 4, this.path, `tensor '${name}'`));
    const t: RawTensor = { dtype: 'F32', shape: [...s.shape], data };
    return s.ropeHeads > 0 ? permuteRopeRows(t, s.ropeHeads, 'toHf') : t;
  }

  *entries(): IterableIterator<[string, RawTensor]> {
    for (const name of this.#slots.keys()) yield [name, this.read(name)];
  }

  #slot(name: string): Slot {
    const s = this.#slots.get(name);
    if (s === undefined) throw new FormatError(this.path, 'no such tensor in this checkpoint', { key: name, keyKind: 'tensor' });
    return s;
  }
}

/** The LlamaConfig llama2.c's `run.c` implies: RMSNorm eps 1e-5, RoPE base 10000, ids 1 (BOS) and 2 (EOS). */
export function llama2cConfig(h: Llama2cHeader): LlamaConfig {
  return {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    vocab_size: h.vocab_size,
    hidden_size: h.dim,
    intermediate_size: h.hidden_dim,
    num_hidden_layers: h.n_layers,
    num_attention_heads: h.n_heads,
    num_key_value_heads: h.n_kv_heads,
    head_dim: h.dim / h.n_heads,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    max_position_embeddings: h.max_seq_len,
    tie_word_embeddings: h.shared_classifier,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: null,
    torch_dtype: 'float32',
    hidden_act: 'silu',
  };
}

/** Reads a whole llama2.c checkpoint: its LlamaConfig and HF-named tensors. */
export function readLlama2cCheckpoint(path: string): { config: LlamaConfig; tensors: Map<string, RawTensor> } {
  const ck = Llama2cCheckpoint.open(path);
  return { config: ck.config, tensors: new Map(ck.entries()) };
}

/**
 * Writes HF-named F32 tensors as a legacy llama2.c checkpoint (wq, wk permuted back; RoPE tables
 * filled as llama2.c's export does), atomically. The inverse of Llama2cCheckpoint, for tests and
 * for running Lion-trained small models in llama2.c.
 */
export function writeLlama2cCheckpoint(path: string, config: LlamaConfig, tensors: ReadonlyMap<string, RawTensor>): void {
  if (config.head_dim * config.num_attention_heads !== config.hidden_size) throw new FormatError(path, 'llama2.c needs head_dim × num_attention_heads = hidden_size');
  if (config.rope_theta !== 10000 || config.rope_scaling !== null) throw new FormatError(path, 'llama2.c hard-codes RoPE base 10000 without scaling');
  const h: Llama2cHeader = {
    dim: config.hidden_size, hidden_dim: config.intermediate_size, n_layers: config.num_hidden_layers, n_heads: config.num_attention_heads,
    n_kv_heads: config.num_key_value_heads, vocab_size: config.vocab_size, max_seq_len: config.max_position_embeddings,
    shared_classifier: config.tie_word_embeddings, version: 0,
  };
  const { slots } = layout(h);
  const hs = h.dim / h.n_heads;
  writeFileAtomic(path, (fd) => {
    const head = new Int32Array([h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.shared_classifier ? h.vocab_size : -h.vocab_size, h.max_seq_len]);
    writeAll(fd, new Uint8Array(head.buffer));
    for (const s of slots) {
      const t = tensors.get(s.name);
      if (t === undefined) throw new FormatError(path, 'tensor missing for the llama2.c layout', { key: s.name, keyKind: 'tensor' });
      if (t.dtype !== 'F32' || t.shape.join(',') !== s.shape.join(',')) throw new FormatError(path, `expected F32[${s.shape.join(', ')}], got ${t.dtype}[${t.shape.join(', ')}]`, { key: s.name, keyKind: 'tensor' });
      writeAll(fd, s.ropeHeads > 0 ? permuteRopeRows(t, s.ropeHeads, 'toLlama2c').data : t.data);
      if (s.name === 'model.norm.weight') {
        // freq_cis_real then freq_cis_imag, as llama2.c's precompute_freqs_cis.
        const re = new Float32Array(h.max_seq_len * (hs / 2));
        const im = new Float32Array(h.max_seq_len * (hs / 2));
        for (let p = 0; p < h.max_seq_len; p++) {
          for (let i = 0; i < hs / 2; i++) {
            const f = p / 10000 ** ((2 * i) / hs);
            re[p * (hs / 2) + i] = Math.cos(f);
            im[p * (hs / 2) + i] = Math.sin(f);
          }
        }
        writeAll(fd, new Uint8Array(re.buffer));
        writeAll(fd, new Uint8Array(im.buffer));
      }
    }
  });
}
