/**
 * Tensor: a JS object that owns exactly one addon handle.
 *
 * Memory is released deterministically: `dispose()` (or a `using` declaration) frees the handle at
 * once, and `tidy(fn)` frees every tensor made inside `fn` except the ones it returns. V8 cannot see
 * libtorch's memory, so the GC finalizer is only a safety net, never the plan.
 * @module
 */
import { native, type Handle, type Reduction } from './native.ts';
import { BYTES_PER_ELEMENT, dtypeCode, dtypeFromCode, type AnyTypedArray, type DType, type TypedArrayOf } from './dtype.ts';

const finalizer = new FinalizationRegistry<Handle>((h) => {
  try {
    native().free(h);
  } catch {
    // the addon may be unloading at exit; nothing to do
  }
});

/**
 * How many tidy scopes are open. Tensors made inside a scope are owned by it, so they skip the GC
 * finalizer: registering them would pile up finalizer cells in a synchronous training loop (their
 * cleanup only runs when the event loop turns), which showed as a slowly growing JS heap.
 */
let openScopes = 0;
export const scopeDepth = {
  enter(): void {
    openScopes++;
  },
  exit(): void {
    openScopes--;
  },
  get current(): number {
    return openScopes;
  },
};

/** Hands a tensor that no scope owns any more to the GC finalizer (the safety net). */
export function adoptByFinalizer(t: Tensor): void {
  if (!t.disposed) finalizer.register(t, t.handle, t);
}

export type Operand = Tensor | number;

/** Device strings as libtorch spells them: 'cpu', 'cuda', 'cuda:1'. */
export type Device = 'cpu' | `cuda${'' | `:${number}`}`;

export class Tensor {
  #h: Handle;
  #disposed = false;
  #shape: number[] | undefined;

  /** Wraps a handle the addon just returned; the Tensor owns it from now on. */
  constructor(handle: Handle) {
    this.#h = handle;
    if (openScopes === 0) finalizer.register(this, handle, this);
  }

  /**
   * The addon handle. A disposed tensor still yields its (freed) handle: the addon then reports the
   * use after dispose together with the op and the other operands' shapes.
   */
  get handle(): Handle {
    return this.#h;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  // ---- construction -------------------------------------------------------------------------------

  /**
   * A tensor copied from a typed array (or plain numbers for f32/f64/i32/u8) with the given shape,
   * placed on `device` and, when `as` is given, converted to that dtype in the same single copy.
   */
  static from<D extends DType = 'f32'>(
    data: TypedArrayOf[D] | readonly number[],
    shape?: readonly number[],
    dtype?: D,
    device: Device = 'cpu',
    as?: DType,
  ): Tensor {
    const dt: DType = dtype ?? inferDtype(data);
    const arr = Array.isArray(data) ? toTypedArray(data as readonly number[], dt) : (data as AnyTypedArray);
    const n = arr.length;
    const shp = shape ? [...shape] : [n];
    if (arr.byteLength !== shp.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dt]) {
      throw new Error(`lion.from: ${n} elements of ${dt} do not fill shape [${shp.join(', ')}]`);
    }
    return new Tensor(native().fromBuffer(arr, dtypeCode(dt), shp, device, as === undefined ? undefined : dtypeCode(as)));
  }
  static scalar(value: number, dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().full([], value, dtypeCode(dtype), device));
  }
  static zeros(shape: readonly number[], dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().zeros([...shape], dtypeCode(dtype), device));
  }
  /** Uninitialised values: only for tensors that are overwritten before they are read. */
  static empty(shape: readonly number[], dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().empty([...shape], dtypeCode(dtype), device));
  }
  static ones(shape: readonly number[], dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().ones([...shape], dtypeCode(dtype), device));
  }
  static full(shape: readonly number[], value: number, dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().full([...shape], value, dtypeCode(dtype), device));
  }
  /** [start, end) with the given step; i64 by default, like torch.arange on integers. */
  static arange(start: number, end: number, step = 1, dtype: DType = 'i64', device: Device = 'cpu'): Tensor {
    return new Tensor(native().arange(start, end, step, dtypeCode(dtype), device));
  }
  /** Standard normal samples from the global generator (seed it with manualSeed). */
  static randn(shape: readonly number[], dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().randn([...shape], dtypeCode(dtype), device));
  }
  /** Uniform samples in [0, 1). */
  static rand(shape: readonly number[], dtype: DType = 'f32', device: Device = 'cpu'): Tensor {
    return new Tensor(native().rand([...shape], dtypeCode(dtype), device));
  }
  /** Uniform integers in [low, high). */
  static randint(low: number, high: number, shape: readonly number[], dtype: DType = 'i64', device: Device = 'cpu'): Tensor {
    return new Tensor(native().randint(low, high, [...shape], dtypeCode(dtype), device));
  }
  static cat(tensors: readonly Tensor[], dim = 0): Tensor {
    return new Tensor(native().cat(tensors.map((t) => t.handle), dim));
  }
  static stack(tensors: readonly Tensor[], dim = 0): Tensor {
    return new Tensor(native().stack(tensors.map((t) => t.handle), dim));
  }
  /** Elementwise `cond ? a : b` with broadcasting. */
  static where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
    return new Tensor(native().where(cond.handle, a.handle, b.handle));
  }

  // ---- lifetime -----------------------------------------------------------------------------------

  /** Frees the handle now. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    finalizer.unregister(this);
    native().free(this.#h);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Takes this tensor out of every enclosing tidy scope: only dispose() frees it (parameters, caches). */
  keep(): this {
    native().untrack(this.handle);
    if (openScopes > 0) finalizer.register(this, this.#h, this);
    return this;
  }

  // ---- inspection ---------------------------------------------------------------------------------

  get shape(): number[] {
    // No exposed op changes a tensor's shape in place, so the first answer stays true.
    this.#shape ??= native().shape(this.handle);
    return [...this.#shape];
  }
  get rank(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  /** Size along one dimension; negative dims count from the end. */
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? s.length + dim : dim;
    const v = s[d];
    if (v === undefined) throw new Error(`lion.size: dim ${dim} out of range for shape [${s.join(', ')}]`);
    return v;
  }
  get dtype(): DType {
    return dtypeFromCode(native().dtype(this.handle));
  }
  get device(): Device {
    return native().device(this.handle) as Device;
  }
  get requiresGrad(): boolean {
    return native().requiresGrad(this.handle);
  }
  get isContiguous(): boolean {
    return native().isContiguous(this.handle);
  }
  /** The single element as a JS number (booleans as 0/1). */
  item(): number {
    return Number(native().item(this.handle));
  }
  /** A copy of the elements in row-major order, in the dtype's typed array. */
  toArray(): AnyTypedArray {
    return native().toBuffer(this.handle);
  }
  /** A copy of the elements as f32 (converting first when needed). */
  toFloat32Array(): Float32Array {
    if (this.dtype === 'f32') return native().toBuffer(this.handle) as Float32Array;
    const h = native().to(this.handle, dtypeCode('f32'), null);
    try {
      return native().toBuffer(h) as Float32Array;
    } finally {
      native().free(h);
    }
  }
  /** Plain numbers (for tests and small outputs). */
  toList(): number[] {
    return Array.from(this.toArray() as ArrayLike<number | bigint>, Number);
  }
  toString(): string {
    return this.#disposed ? `Tensor(#${this.#h}, disposed)` : `Tensor([${this.shape.join(', ')}], ${this.dtype}, ${this.device})`;
  }

  // ---- dtype, device, copies ----------------------------------------------------------------------

  to(dtype: DType | null, device: Device | null = null): Tensor {
    return new Tensor(native().to(this.handle, dtype === null ? null : dtypeCode(dtype), device));
  }
  toDevice(device: Device): Tensor {
    return new Tensor(native().to(this.handle, null, device));
  }
  contiguous(): Tensor {
    return new Tensor(native().contiguous(this.handle));
  }
  clone(): Tensor {
    return new Tensor(native().clone(this.handle));
  }
  /** Shares storage, cut from the autograd graph. */
  detach(): Tensor {
    return new Tensor(native().detach(this.handle));
  }
  /** In-place copy from `src` (broadcast to this shape); use under noGrad for parameters. */
  copy_(src: Tensor): this {
    native().copy_(this.handle, src.handle);
    return this;
  }
  /** In-place `this += alpha * other`; use under noGrad for parameters. */
  addInPlace(other: Tensor, alpha = 1): this {
    native().add_(this.handle, other.handle, alpha);
    return this;
  }
  fill_(value: number): this {
    native().fill_(this.handle, value);
    return this;
  }

  // ---- elementwise --------------------------------------------------------------------------------

  neg(): Tensor { return this.#u(native().neg); }
  exp(): Tensor { return this.#u(native().exp); }
  log(): Tensor { return this.#u(native().log); }
  log1p(): Tensor { return this.#u(native().log1p); }
  relu(): Tensor { return this.#u(native().relu); }
  silu(): Tensor { return this.#u(native().silu); }
  sigmoid(): Tensor { return this.#u(native().sigmoid); }
  tanh(): Tensor { return this.#u(native().tanh); }
  sqrt(): Tensor { return this.#u(native().sqrt); }
  rsqrt(): Tensor { return this.#u(native().rsqrt); }
  abs(): Tensor { return this.#u(native().abs); }
  sin(): Tensor { return this.#u(native().sin); }
  cos(): Tensor { return this.#u(native().cos); }
  square(): Tensor { return this.#u(native().square); }
  logicalNot(): Tensor { return this.#u(native().logicalNot); }

  add(o: Operand): Tensor { return this.#b(o, native().add, native().addScalar); }
  sub(o: Operand): Tensor { return this.#b(o, native().sub, native().subScalar); }
  /** `s - this` for a scalar s. */
  rsub(s: number): Tensor { return new Tensor(native().rsubScalar(this.handle, s)); }
  mul(o: Operand): Tensor { return this.#b(o, native().mul, native().mulScalar); }
  div(o: Operand): Tensor { return this.#b(o, native().div, native().divScalar); }
  pow(o: Operand): Tensor { return this.#b(o, native().pow, native().powScalar); }
  maximum(o: Tensor): Tensor { return new Tensor(native().maximum(this.handle, o.handle)); }
  minimum(o: Tensor): Tensor { return new Tensor(native().minimum(this.handle, o.handle)); }
  eq(o: Operand): Tensor { return this.#b(o, native().eq, native().eqScalar); }
  ne(o: Operand): Tensor { return this.#b(o, native().ne, native().neScalar); }
  lt(o: Operand): Tensor { return this.#b(o, native().lt, native().ltScalar); }
  le(o: Operand): Tensor { return this.#b(o, native().le, native().leScalar); }
  gt(o: Operand): Tensor { return this.#b(o, native().gt, native().gtScalar); }
  ge(o: Operand): Tensor { return this.#b(o, native().ge, native().geScalar); }
  logicalAnd(o: Tensor): Tensor { return new Tensor(native().logicalAnd(this.handle, o.handle)); }
  logicalOr(o: Tensor): Tensor { return new Tensor(native().logicalOr(this.handle, o.handle)); }
  clamp(min: number | null, max: number | null = null): Tensor {
    return new Tensor(native().clamp(this.handle, min, max));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(native().maskedFill(this.handle, mask.handle, value));
  }

  // ---- reductions ---------------------------------------------------------------------------------

  /** Sum over `dims` (all elements when omitted). */
  sum(dims?: number | readonly number[], keepdim = false): Tensor { return this.#r(native().sum, dims, keepdim); }
  mean(dims?: number | readonly number[], keepdim = false): Tensor { return this.#r(native().mean, dims, keepdim); }
  amax(dims?: number | readonly number[], keepdim = false): Tensor { return this.#r(native().amax, dims, keepdim); }
  amin(dims?: number | readonly number[], keepdim = false): Tensor { return this.#r(native().amin, dims, keepdim); }
  logsumexp(dims?: number | readonly number[], keepdim = false): Tensor {
    return this.#r(native().logsumexp, dims, keepdim);
  }
  /** p-norm over `dims` (all elements when omitted). */
  norm(p = 2, dims?: number | readonly number[], keepdim = false): Tensor {
    return new Tensor(native().norm(this.handle, p, dimList(dims), keepdim));
  }
  /** Max along `dim` with the index of the max: [values, indices (i64)]. */
  max(dim: number, keepdim = false): [Tensor, Tensor] { return pair(native().maxDim(this.handle, dim, keepdim)); }
  min(dim: number, keepdim = false): [Tensor, Tensor] { return pair(native().minDim(this.handle, dim, keepdim)); }
  argmax(dim: number, keepdim = false): Tensor { return new Tensor(native().argmax(this.handle, dim, keepdim)); }
  softmax(dim: number): Tensor { return new Tensor(native().softmax(this.handle, dim)); }
  logSoftmax(dim: number): Tensor { return new Tensor(native().logSoftmax(this.handle, dim)); }
  cumsum(dim: number): Tensor { return new Tensor(native().cumsum(this.handle, dim)); }
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] {
    return pair(native().topk(this.handle, k, dim, largest, sorted));
  }
  sort(dim = -1, descending = false): [Tensor, Tensor] { return pair(native().sort(this.handle, dim, descending)); }
  /**
   * Of a 2-D score block, the entries strictly above their row's threshold (`thresholds`: one per row):
   * [flat positions row × columns + column (i32), scores (f32)], row-major, so each row's columns come
   * ascending. One pass inside libtorch's process (a search's selection); fewer than 2^31 entries.
   */
  rowsAbove(thresholds: Tensor): [Tensor, Tensor] { return pair(native().rowsAbove(this.handle, thresholds.handle)); }

  // ---- shape and indexing -------------------------------------------------------------------------

  reshape(shape: readonly number[]): Tensor { return new Tensor(native().reshape(this.handle, [...shape])); }
  view(shape: readonly number[]): Tensor { return new Tensor(native().view(this.handle, [...shape])); }
  transpose(d0: number, d1: number): Tensor { return new Tensor(native().transpose(this.handle, d0, d1)); }
  /** Transpose of the last two dimensions. */
  get T(): Tensor { return this.transpose(-2, -1); }
  permute(dims: readonly number[]): Tensor { return new Tensor(native().permute(this.handle, [...dims])); }
  unsqueeze(dim: number): Tensor { return new Tensor(native().unsqueeze(this.handle, dim)); }
  squeeze(dim: number): Tensor { return new Tensor(native().squeeze(this.handle, dim)); }
  expand(shape: readonly number[]): Tensor { return new Tensor(native().expand(this.handle, [...shape])); }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(native().narrow(this.handle, dim, start, length));
  }
  /** Python's x[start:end:step] along `dim`. */
  slice(dim: number, start: number, end: number, step = 1): Tensor {
    return new Tensor(native().slice(this.handle, dim, start, end, step));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(native().indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor { return new Tensor(native().gather(this.handle, dim, index.handle)); }
  /** Out-of-place scatter_add: a copy of this with `src` added at `index` along `dim`. */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(native().scatterAdd(this.handle, dim, index.handle, src.handle));
  }
  tril(diagonal = 0): Tensor { return new Tensor(native().tril(this.handle, diagonal)); }
  triu(diagonal = 0): Tensor { return new Tensor(native().triu(this.handle, diagonal)); }
  /** Indices of non-zero elements, [n, rank] i64. */
  nonzero(): Tensor { return this.#u(native().nonzero); }

  // ---- linear algebra -----------------------------------------------------------------------------

  matmul(o: Tensor): Tensor { return new Tensor(native().matmul(this.handle, o.handle)); }
  bmm(o: Tensor): Tensor { return new Tensor(native().bmm(this.handle, o.handle)); }

  // ---- autograd -----------------------------------------------------------------------------------

  requiresGrad_(on = true): this {
    native().setRequiresGrad(this.handle, on);
    return this;
  }
  /** Backpropagates from this tensor (a scalar unless `grad` is given). */
  backward(grad?: Tensor, retainGraph = false): void {
    native().backward(this.handle, grad ? grad.handle : null, retainGraph);
  }
  /** The accumulated gradient (a new handle sharing its storage), or null when there is none. */
  get grad(): Tensor | null {
    const h = native().grad(this.handle);
    return h === null ? null : new Tensor(h);
  }
  /** Drops the accumulated gradient (PyTorch's set_to_none). */
  zeroGrad(): void {
    native().zeroGrad(this.handle);
  }

  // ---- private helpers ----------------------------------------------------------------------------

  #u(f: (h: Handle) => Handle): Tensor {
    return new Tensor(f(this.handle));
  }
  #b(o: Operand, ft: (a: Handle, b: Handle) => Handle, fs: (a: Handle, s: number) => Handle): Tensor {
    return new Tensor(typeof o === 'number' ? fs(this.handle, o) : ft(this.handle, o.handle));
  }
  #r(f: (h: Handle, d: number[] | null, k: boolean) => Handle, dims: number | readonly number[] | undefined, keep: boolean): Tensor {
    return new Tensor(f(this.handle, dimList(dims), keep));
  }
}

function dimList(dims: number | readonly number[] | undefined): number[] | null {
  if (dims === undefined) return null;
  return typeof dims === 'number' ? [dims] : [...dims];
}

function pair([a, b]: [Handle, Handle]): [Tensor, Tensor] {
  return [new Tensor(a), new Tensor(b)];
}

function inferDtype(data: unknown): DType {
  if (Array.isArray(data) || data instanceof Float32Array) return 'f32';
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof BigInt64Array) return 'i64';
  if (data instanceof Int32Array) return 'i32';
  if (data instanceof Uint8Array) return 'u8';
  throw new Error('lion.from: pass a dtype for this typed array (Uint16Array holds f16 or bf16 bits)');
}

function toTypedArray(data: readonly number[], dt: DType): AnyTypedArray {
  switch (dt) {
    case 'f32': return Float32Array.from(data);
    case 'f64': return Float64Array.from(data);
    case 'i32': return Int32Array.from(data);
    case 'i64': return BigInt64Array.from(data, (x) => BigInt(x));
    case 'u8':
    case 'bool': return Uint8Array.from(data);
    case 'f16':
    case 'bf16': {
      // Build in f32 and let libtorch round, so plain numbers work for half types too.
      throw new Error(`lion.from: plain numbers cannot be given as ${dt}; create f32 and call .to('${dt}')`);
    }
  }
}

// ---- free functions that read like the math ---------------------------------------------------------

/** y = x·Wᵀ + b, with W [out, in]; x [..., in] -> [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  return new Tensor(native().linear(x.handle, weight.handle, bias ? bias.handle : null));
}
/** Rows of `weight` [V, d] picked by integer `ids` [...] -> [..., d]. */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  return new Tensor(native().embedding(weight.handle, ids.handle));
}
/** Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p) when `train`. */
export function dropout(x: Tensor, p: number, train: boolean): Tensor {
  return new Tensor(native().dropout(x.handle, p, train));
}
/**
 * Cross-entropy of logits [N, C] against class ids [N] (i64): −log softmax(logits)[target], averaged over
 * targets that are not `ignoreIndex` (PyTorch's default −100) when reduction is 'mean'.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: { ignoreIndex?: number; reduction?: Reduction } = {}): Tensor {
  return new Tensor(native().crossEntropy(logits.handle, target.handle, options.ignoreIndex ?? -100, options.reduction ?? 'mean'));
}
/**
 * KL(p ‖ q) given `input` = log q and `target` = p (or log p with logTarget): Σ p (log p − log q).
 * 'batchmean' divides the sum by the batch size, which is the true KL per row.
 */
export function klDiv(input: Tensor, target: Tensor, options: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  return new Tensor(native().klDiv(input.handle, target.handle, options.reduction ?? 'batchmean', options.logTarget ?? false));
}
/** Mean (or summed) squared error. */
export function mseLoss(a: Tensor, b: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(native().mseLoss(a.handle, b.handle, reduction));
}
