/**
 * Rotary position embeddings, Hugging Face "rotate half" layout, with Llama-3's frequency scaling.
 * @module
 */
import { Tensor, tidy, type Device } from '../torch/index.ts';
import type { LlamaArch } from './arch.ts';
import { archSizes } from './arch.ts';

/**
 * inv_freq_i = θ^(−2i/d) for i < d/2, then, for rope_type llama3 (HF `_compute_llama3_parameters`):
 * wavelengths longer than L/low_freq_factor are divided by `factor`, shorter than L/high_freq_factor kept,
 * and those in between interpolated smoothly. Computed in f64 here; HF computes in f32.
 */
export function inverseFrequencies(a: LlamaArch): Float64Array {
  const { headDim, theta } = archSizes(a);
  const inv = new Float64Array(headDim / 2);
  for (let i = 0; i < inv.length; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  const sc = a.rope_scaling;
  const kind = sc?.rope_type ?? sc?.type;
  if (!sc || kind === undefined || kind === 'default') return inv;
  if (kind !== 'llama3') throw new Error(`lion: rope_scaling type '${kind}' is not supported (only 'llama3')`);
  const { factor, low_freq_factor: lo, high_freq_factor: hi, original_max_position_embeddings: L } = sc;
  const lowWave = L / lo;
  const highWave = L / hi;
  for (let i = 0; i < inv.length; i++) {
    const f = inv[i]!;
    const wave = (2 * Math.PI) / f;
    if (wave < highWave) continue;
    if (wave > lowWave) {
      inv[i] = f / factor;
    } else {
      const smooth = (L / wave - lo) / (hi - lo);
      inv[i] = (1 - smooth) * (f / factor) + smooth * f;
    }
  }
  return inv;
}

/** cos and sin tables [positions, headDim], each half repeated (cat(freqs, freqs)) as HF does. */
export function ropeTables(a: LlamaArch, positions: number, device: Device = 'cpu'): { cos: Tensor; sin: Tensor } {
  const inv = inverseFrequencies(a);
  const hd = inv.length * 2;
  const cos = new Float32Array(positions * hd);
  const sin = new Float32Array(positions * hd);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < inv.length; i++) {
      // HF multiplies in f32: round the angle the same way so long positions match its tables.
      const ang = Math.fround(Math.fround(p) * Math.fround(inv[i]!));
      const c = Math.cos(ang);
      const s = Math.sin(ang);
      cos[p * hd + i] = c;
      cos[p * hd + i + inv.length] = c;
      sin[p * hd + i] = s;
      sin[p * hd + i + inv.length] = s;
    }
  }
  return tidy(() => ({ cos: Tensor.from(cos, [positions, hd]).toDevice(device), sin: Tensor.from(sin, [positions, hd]).toDevice(device) }));
}

/** rotate_half(x) = cat(−x₂, x₁) over the last dim, x = [x₁ | x₂]. */
export function rotateHalf(x: Tensor): Tensor {
  const h = x.size(-1) / 2;
  return Tensor.cat([x.narrow(-1, h, h).neg(), x.narrow(-1, 0, h)], -1);
}

/** x·cos + rotate_half(x)·sin; x [B, H, T, hd], cos/sin [B, 1, T, hd]. */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return tidy(() => x.mul(cos).add(rotateHalf(x).mul(sin)));
}
