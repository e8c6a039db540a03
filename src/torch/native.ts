/**
 * Loads the libtorch addon (native/build/Release/lion_torch.node) and declares its functions.
 * This is the only module that touches the addon; everything else goes through Tensor.
 * @module
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import type { AnyTypedArray } from './dtype.ts';

/** A tensor handle: an integer owned by the addon's registry. Never reused after it is freed. */
export type Handle = number;
/** 'mean' | 'sum' | 'none' as in PyTorch's loss functions. */
export type Reduction = 'mean' | 'sum' | 'none';

export interface AdamWGroup {
  params: Handle[];
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
}
export interface AdamWParamStateHandles {
  step: number;
  expAvg: Handle;
  expAvgSq: Handle;
}

type Unary = (a: Handle) => Handle;
type Binary = (a: Handle, b: Handle) => Handle;
type WithScalar = (a: Handle, s: number) => Handle;
type Reduce = (a: Handle, dims: number[] | null, keepdim: boolean) => Handle;
type Create = (shape: number[], dtype: number, device: string) => Handle;

export interface Native {
  version(): string;
  buildConfig(): string;
  parallelInfo(): string;
  getNumThreads(): number;
  setNumThreads(n: number): void;
  devices(): string[];
  cudaBuild(): boolean;
  cudaSynchronize(): void;

  free(h: Handle): boolean;
  beginScope(): void;
  endScope(keep: Handle[] | null): void;
  untrack(h: Handle): void;
  liveTensors(): number;
  scopeDepth(): number;

  /** One copy from JS memory to `device`, converted to `target` (default: `dtype`) on the way. */
  fromBuffer(data: AnyTypedArray, dtype: number, shape: number[], device?: string, target?: number): Handle;
  toBuffer(h: Handle): AnyTypedArray;
  zeros: Create;
  /** Uninitialised storage (for parameters a checkpoint is about to replace). */
  empty: Create;
  ones: Create;
  randn: Create;
  rand: Create;
  full(shape: number[], value: number | boolean, dtype: number, device: string): Handle;
  arange(start: number, end: number, step: number, dtype: number, device: string): Handle;
  randint(low: number, high: number, shape: number[], dtype: number, device: string): Handle;
  zerosLike: Unary;
  manualSeed(seed: number): void;
  /** The default generator of `device` ('cpu' when omitted) as a u8 tensor. */
  rngState(device?: string): Handle;
  setRngState(state: Handle, device?: string): void;

  shape(h: Handle): number[];
  dtype(h: Handle): number;
  device(h: Handle): string;
  item(h: Handle): number | boolean;
  requiresGrad(h: Handle): boolean;
  isContiguous(h: Handle): boolean;

  to(h: Handle, dtype: number | null, device: string | null): Handle;
  contiguous: Unary;
  clone: Unary;
  detach: Unary;
  copy_(dst: Handle, src: Handle): void;
  add_(dst: Handle, src: Handle, alpha: number): void;
  fill_(dst: Handle, value: number): void;

  neg: Unary;
  exp: Unary;
  log: Unary;
  log1p: Unary;
  relu: Unary;
  silu: Unary;
  sigmoid: Unary;
  tanh: Unary;
  sqrt: Unary;
  rsqrt: Unary;
  abs: Unary;
  sin: Unary;
  cos: Unary;
  square: Unary;
  logicalNot: Unary;

  add: Binary;
  sub: Binary;
  mul: Binary;
  div: Binary;
  pow: Binary;
  maximum: Binary;
  minimum: Binary;
  eq: Binary;
  ne: Binary;
  lt: Binary;
  le: Binary;
  gt: Binary;
  ge: Binary;
  logicalAnd: Binary;
  logicalOr: Binary;
  matmul: Binary;
  bmm: Binary;

  addScalar: WithScalar;
  subScalar: WithScalar;
  rsubScalar: WithScalar;
  mulScalar: WithScalar;
  divScalar: WithScalar;
  powScalar: WithScalar;
  eqScalar: WithScalar;
  neScalar: WithScalar;
  ltScalar: WithScalar;
  leScalar: WithScalar;
  gtScalar: WithScalar;
  geScalar: WithScalar;

  clamp(h: Handle, min: number | null, max: number | null): Handle;
  where(cond: Handle, a: Handle, b: Handle): Handle;
  maskedFill(h: Handle, mask: Handle, value: number): Handle;

  sum: Reduce;
  mean: Reduce;
  amax: Reduce;
  amin: Reduce;
  logsumexp: Reduce;
  norm(h: Handle, p: number, dims: number[] | null, keepdim: boolean): Handle;
  maxDim(h: Handle, dim: number, keepdim: boolean): [Handle, Handle];
  minDim(h: Handle, dim: number, keepdim: boolean): [Handle, Handle];
  argmax(h: Handle, dim: number, keepdim: boolean): Handle;
  softmax(h: Handle, dim: number): Handle;
  logSoftmax(h: Handle, dim: number): Handle;
  cumsum(h: Handle, dim: number): Handle;
  topk(h: Handle, k: number, dim: number, largest: boolean, sorted: boolean): [Handle, Handle];
  sort(h: Handle, dim: number, descending: boolean): [Handle, Handle];
  rowsAbove(scores: Handle, thresholds: Handle): [Handle, Handle];

  reshape(h: Handle, shape: number[]): Handle;
  view(h: Handle, shape: number[]): Handle;
  transpose(h: Handle, d0: number, d1: number): Handle;
  permute(h: Handle, dims: number[]): Handle;
  unsqueeze(h: Handle, dim: number): Handle;
  squeeze(h: Handle, dim: number): Handle;
  expand(h: Handle, shape: number[]): Handle;
  narrow(h: Handle, dim: number, start: number, length: number): Handle;
  slice(h: Handle, dim: number, start: number, end: number, step: number): Handle;
  indexSelect(h: Handle, dim: number, index: Handle): Handle;
  gather(h: Handle, dim: number, index: Handle): Handle;
  scatterAdd(h: Handle, dim: number, index: Handle, src: Handle): Handle;
  cat(hs: Handle[], dim: number): Handle;
  stack(hs: Handle[], dim: number): Handle;
  tril(h: Handle, diagonal: number): Handle;
  triu(h: Handle, diagonal: number): Handle;
  nonzero: Unary;

  linear(x: Handle, w: Handle, b: Handle | null): Handle;
  embedding(weight: Handle, indices: Handle): Handle;
  dropout(h: Handle, p: number, train: boolean): Handle;
  crossEntropy(logits: Handle, target: Handle, ignoreIndex: number, reduction: Reduction): Handle;
  klDiv(input: Handle, target: Handle, reduction: Reduction | 'batchmean', logTarget: boolean): Handle;
  mseLoss(a: Handle, b: Handle, reduction: Reduction): Handle;

  setRequiresGrad(h: Handle, on: boolean): void;
  backward(h: Handle, grad: Handle | null, retainGraph: boolean): void;
  grad(h: Handle): Handle | null;
  zeroGrad(h: Handle): void;
  setGradEnabled(on: boolean): boolean;
  setAutocast(device: string, on: boolean, dtype: number, entering: boolean): boolean;
  isGradEnabled(): boolean;

  adamwNew(groups: AdamWGroup[]): number;
  adamwStep(opt: number): void;
  adamwZeroGrad(opt: number): void;
  adamwSetLr(opt: number, lr: number): void;
  adamwGetLr(opt: number): number[];
  adamwFree(opt: number): boolean;
  adamwGetState(opt: number): (AdamWParamStateHandles | null)[];
  adamwSetState(opt: number, state: (AdamWParamStateHandles | null)[]): void;
  clipGradNorm(params: Handle[], maxNorm: number, normType: number): number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Where the built addon lives; LION_ADDON overrides it (a CUDA build kept beside a CPU one, say). */
export const addonPath = process.env.LION_ADDON ?? path.join(root, 'native/build/Release/lion_torch.node');

export class LibtorchLoadError extends Error {
  override name = 'LibtorchLoadError';
}

let loaded: Native | undefined;

/** The addon, loaded on first use. Sets intra-op threads to the core count (libtorch's default here is 1). */
export function native(): Native {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) {
    throw new LibtorchLoadError(
      `lion: the libtorch addon is not built (${addonPath} is missing); hint: run 'npm run build:native' ` +
        `after 'apt-get install libtorch-dev libopenblas0-openmp', or set LIBTORCH to a libtorch folder before building`,
    );
  }
  try {
    loaded = createRequire(import.meta.url)(addonPath) as Native;
  } catch (e) {
    throw new LibtorchLoadError(
      `lion: cannot load libtorch through ${addonPath}: ${(e as Error).message}; hint: is libtorch installed ` +
        `(apt-get install libtorch-dev) or LIBTORCH set to the folder the addon was built against?`,
    );
  }
  const threads = Number(process.env.LION_NUM_THREADS ?? process.env.OMP_NUM_THREADS ?? os.availableParallelism());
  if (Number.isInteger(threads) && threads > 0) loaded.setNumThreads(threads);
  return loaded;
}
