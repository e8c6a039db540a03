import assert from 'node:assert/strict';
import { Tensor, tidy, type DType } from '../../src/torch/index.ts';

/** Asserts two number lists agree elementwise within atol + rtol·|expected|, naming the worst index. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-6, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const err = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) assert.fail(`${what}[${worst}] = ${actual[worst]} but expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`);
}

export function values(t: Tensor): number[] {
  return t.toList();
}

/** Deterministic pseudo-random numbers in [-1, 1) (no libtorch RNG, so expectations stay independent). */
export function lcg(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s / 2 ** 31 - 1);
  }
  return out;
}

/**
 * Checks autograd's gradient of scalar f at x against central finite differences in f64.
 * `f` receives a leaf tensor that requires grad and must return a scalar tensor.
 */
export function checkGradient(f: (x: Tensor) => Tensor, x0: number[], shape: number[], { eps = 1e-6, tol = 1e-6, dtype = 'f64' as DType } = {}): void {
  const analytic = tidy(() => {
    const x = Tensor.from(Float64Array.from(x0), shape, 'f64').to(dtype).requiresGrad_(true);
    f(x).backward();
    return x.grad!.to('f64').toList();
  });
  const numeric = x0.map((_, i) => {
    const at = (delta: number): number =>
      tidy(() => {
        const xs = x0.slice();
        xs[i] = xs[i]! + delta;
        return f(Tensor.from(Float64Array.from(xs), shape, 'f64').to(dtype)).item();
      });
    return (at(eps) - at(-eps)) / (2 * eps);
  });
  assertClose(analytic, numeric, tol, tol * 10, 'gradient');
}
