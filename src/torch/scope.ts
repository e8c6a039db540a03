/**
 * Disposal and grad-mode scopes.
 * @module
 */
import { native } from './native.ts';
import { Tensor, adoptByFinalizer, scopeDepth } from './tensor.ts';
import { dtypeCode } from './dtype.ts';

/** Tensors inside a returned value: a Tensor, or arrays, Maps and plain objects of them. */
function tensorsIn(value: unknown, out: Tensor[], seen = new Set<unknown>()): Tensor[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof Tensor) {
    if (!value.disposed) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) tensorsIn(v, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) tensorsIn(v, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) tensorsIn(v, out, seen);
  }
  return out;
}

/**
 * Runs `fn` and frees every tensor created inside it except those in its return value (a tensor, or
 * arrays / Maps / plain objects holding tensors), which move to the enclosing scope. Synchronous only:
 * an async function would let other work's tensors land in this scope.
 */
export function tidy<T>(fn: () => T): T {
  const n = native();
  n.beginScope();
  scopeDepth.enter();
  let result: T | undefined;
  let ok = false;
  try {
    result = fn();
    if (result instanceof Promise) throw new Error('lion.tidy: fn must be synchronous (it returned a Promise)');
    ok = true;
    return result;
  } finally {
    const kept = ok ? tensorsIn(result, []) : [];
    scopeDepth.exit();
    n.endScope(kept.map((t) => t.handle));
    // Leaving the outermost scope, returned tensors have no owner but JS: give them the safety net.
    if (scopeDepth.current === 0) for (const t of kept) adoptByFinalizer(t);
  }
}

/** Runs `fn` with gradient recording off (inference, parameter updates), restoring the previous mode. */
export function noGrad<T>(fn: () => T): T {
  const n = native();
  const prev = n.setGradEnabled(false);
  try {
    return fn();
  } finally {
    n.setGradEnabled(prev);
  }
}

/**
 * Runs `fn` under libtorch autocast on `device`: matmuls and linears run in `dtype` (bf16 on CPU, bf16
 * or f16 on CUDA), parameters stay f32, and libtorch's fp32 ops (losses such as cross-entropy; on CUDA
 * also softmax) run in f32, as torch.autocast does. Nests; the previous state comes back even on throw.
 */
export function autocast<T>(dtype: 'bf16' | 'f16', fn: () => T, device: 'cpu' | 'cuda' = 'cpu'): T {
  const n = native();
  const prev = n.setAutocast(device, true, dtypeCode(dtype), true);
  const outer = autocastStack;
  autocastStack = { dtype, device };
  try {
    return fn();
  } finally {
    autocastStack = outer;
    n.setAutocast(device, prev, dtypeCode(dtype), false);
  }
}

/** The autocast a computation runs under, so that a later recomputation (activation checkpointing) can run under the same. */
export interface AutocastState {
  dtype: 'bf16' | 'f16';
  device: 'cpu' | 'cuda';
}
let autocastStack: AutocastState | null = null;

/** The innermost autocast() scope's setting, or null outside any. */
export function currentAutocast(): AutocastState | null {
  return autocastStack;
}

/** Runs `fn` with gradient recording on, restoring the previous mode. */
export function enableGrad<T>(fn: () => T): T {
  const n = native();
  const prev = n.setGradEnabled(true);
  try {
    return fn();
  } finally {
    n.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}

/** Number of live tensor handles in the addon: a leak shows as a number that keeps growing. */
export function liveTensors(): number {
  return native().liveTensors();
}
