import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logGamma, regularizedBeta, studentTCdf } from '../../src/eval/t-dist.ts';

const close = (got: number, want: number, what: string, tol = 1e-12) =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);

test('ln Γ matches factorials and Γ(½) = √π', () => {
  let f = 1;
  for (let n = 1; n <= 30; n++) {
    close(logGamma(n), Math.log(f), `lnΓ(${n})`);
    f *= n;
  }
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 'lnΓ(1/2)');
  close(logGamma(1.5), Math.log(Math.sqrt(Math.PI) / 2), 'lnΓ(3/2)');
});

test('the incomplete beta matches its closed forms and symmetry', () => {
  for (const x of [0, 1e-9, 0.01, 0.2, 0.5, 0.77, 0.999, 1]) {
    close(regularizedBeta(x, 1, 1), x, `I_${x}(1,1) = x`);
    for (const a of [0.5, 2, 7.5, 40]) {
      close(regularizedBeta(x, a, 1), x ** a, `I_${x}(${a},1) = x^a`);
      close(regularizedBeta(x, 1, a), 1 - (1 - x) ** a, `I_${x}(1,${a}) = 1-(1-x)^b`);
      close(regularizedBeta(x, a, 3.25) + regularizedBeta(1 - x, 3.25, a), 1, `symmetry at x ${x}, a ${a}`);
    }
    // I_x(½, ½) = (2/π) asin √x (the arcsine distribution)
    close(regularizedBeta(x, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(x)), `I_${x}(1/2,1/2)`);
  }
  assert.throws(() => regularizedBeta(1.5, 1, 1), /0 ≤ x ≤ 1/);
  assert.throws(() => regularizedBeta(0.5, 0, 1), /a, b > 0/);
});

test("Student's t CDF matches the closed forms for 1, 2, 3 and 4 degrees of freedom", () => {
  for (const t of [-40, -6.3, -3, -2, -1, -0.25, 0, 0.5, 1.7, 4, 25]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, `t ${t}, df 1 (Cauchy)`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), `t ${t}, df 2`);
    const u = t / Math.sqrt(3);
    close(studentTCdf(t, 3), 0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI, `t ${t}, df 3`);
    const x = t / Math.sqrt(4 + t * t); // df 4: ½ + (3/4) x (1 − x²/3)
    close(studentTCdf(t, 4), 0.5 + 0.75 * x * (1 - (x * x) / 3), `t ${t}, df 4`);
  }
});

test("Student's t CDF: table quantiles, the normal limit, and edges", () => {
  // two-sided 5% critical values from the t table (given to 3 decimals)
  for (const [df, q] of [[1, 12.706], [5, 2.571], [10, 2.228], [30, 2.042], [120, 1.98]] as const) {
    close(studentTCdf(-q, df), 0.025, `t table, df ${df}`, 5e-5);
  }
  // large df tends to the standard normal: Φ(−1.959963984540054) = 0.025
  close(studentTCdf(-1.959963984540054, 1e7), 0.025, 'normal limit', 1e-6);
  assert.equal(studentTCdf(0, 7), 0.5);
  assert.equal(studentTCdf(Infinity, 3), 1);
  assert.equal(studentTCdf(-Infinity, 3), 0);
  assert.ok(studentTCdf(-60, 300) > 0 && studentTCdf(-60, 300) < 1e-100, 'deep tails stay positive');
});
