/**
 * Activation checkpointing (torch.utils.checkpoint, which libtorch's C++ API lacks), per decoder layer.
 *
 * Forward: each layer runs without grad, and only its input is kept (B·T·d per layer instead of every
 * intermediate). The chain's output becomes a leaf that requires grad, so the head and loss build a
 * graph that stops there. Backward, in two phases: `backward(loss)` first backpropagates the loss to
 * that leaf as usual, then walks the layers last to first, re-running each one with grad from its
 * kept input (same RNG state, same autocast) and backpropagating the incoming gradient through it.
 * Parameter gradients accumulate in the same `.grad` fields as a plain backward, so the optimizer and
 * clipping see no difference; the price is one extra forward per layer.
 * @module
 */
import { Tensor, currentAutocast, autocast, enableGrad, getRngState, noGrad, setRngState, tidy, type AutocastState, type Device } from '../torch/index.ts';

/** One layer: its input and the chain's shared context (RoPE tables, mask) -> its output. */
export type Layer = (x: Tensor, context: readonly Tensor[]) => Tensor;

interface Step {
  /** The layer's input, detached and kept alive until the backward pass has used it. */
  input: Tensor;
  run: Layer;
  /** Generator states when the layer first ran (dropout draws the same masks when recomputed). */
  rng: { cpu: Tensor; device: Tensor | null } | null;
  autocast: AutocastState | null;
}

interface Segment {
  /** The chain's input with its graph (embeddings that train), or null when nothing before it trains. */
  head: Tensor | null;
  steps: Step[];
  /** Handles of our own on the context tensors (the caller's scope frees its own). */
  context: Tensor[];
  /** The leaf that stands for the chain's output in the loss graph. */
  out: Tensor;
  device: Device;
}

let pending: Segment[] = [];

/**
 * Runs `layers` over `x` as one checkpointed chain and returns its output as a grad-requiring leaf.
 * Call `backward(loss)` (not `loss.backward()`) on a loss that depends on it. `context` holds the
 * tensors every layer reads besides its input (kept until the recomputation). `keepRng` snapshots the
 * generators before each layer (needed when the layers draw random numbers, e.g. dropout in training).
 */
export function checkpointedChain(x: Tensor, context: readonly Tensor[], layers: readonly Layer[], o: { device: Device; keepRng: boolean }): Tensor {
  const head = x.requiresGrad ? x.clone().keep() : null; // a handle of our own: the caller's scope frees x
  const ctx = context.map((t) => t.detach().keep()); // shares storage, no copy
  const steps: Step[] = [];
  let h = x.detach().keep();
  for (const run of layers) {
    const rng = o.keepRng ? { cpu: getRngState('cpu').keep(), device: o.device === 'cpu' ? null : getRngState(o.device).keep() } : null;
    const input = h;
    h = noGrad(() => tidy(() => run(input, ctx))).keep();
    steps.push({ input, run, rng, autocast: currentAutocast() });
  }
  h.requiresGrad_(true);
  pending.push({ head, steps, context: ctx, out: h, device: o.device });
  return h;
}

/** Chains recorded and not yet backpropagated (0 between training steps; a test checks it). */
export function pendingChains(): number {
  return pending.length;
}

/**
 * loss.backward(), then the recomputation of every pending checkpointed chain. Without pending chains
 * it is exactly loss.backward().
 */
export function backward(loss: Tensor): void {
  loss.backward();
  const segments = pending;
  pending = [];
  if (segments.length === 0) return;
  const devices = [...new Set(segments.map((s) => s.device))].filter((d) => d !== 'cpu');
  // Recomputation replays old generator states; put the current ones back afterwards.
  const cpuNow = getRngState('cpu');
  const devNow = devices.map((d) => [d, getRngState(d)] as const);
  try {
    for (const seg of segments.reverse()) backwardSegment(seg);
  } finally {
    for (const seg of segments) disposeSegment(seg);
    setRngState(cpuNow, 'cpu');
    cpuNow.dispose();
    for (const [d, t] of devNow) {
      setRngState(t, d);
      t.dispose();
    }
  }
}

/** Drops pending chains without backpropagating (a step that failed between forward and backward). */
export function discardPending(): void {
  for (const seg of pending) disposeSegment(seg);
  pending = [];
}

function backwardSegment(seg: Segment): void {
  let g = seg.out.grad; // d loss / d output; null when the loss did not use this chain
  if (!g) return;
  for (let i = seg.steps.length - 1; i >= 0; i--) {
    const s = seg.steps[i]!;
    const needInput = i > 0 || seg.head !== null;
    const grad: Tensor = g;
    const next = tidy(() => {
      if (s.rng) {
        setRngState(s.rng.cpu, 'cpu');
        if (s.rng.device) setRngState(s.rng.device, seg.device);
      }
      const xin = s.input.detach();
      if (needInput) xin.requiresGrad_(true);
      const run = (): Tensor => s.run(xin, seg.context);
      const y = enableGrad(() => (s.autocast ? autocast(s.autocast.dtype, run, s.autocast.device) : run()));
      y.backward(grad);
      return needInput ? xin.grad : null;
    });
    grad.dispose();
    if (!next) return;
    g = next;
  }
  if (seg.head) seg.head.backward(g);
  g.dispose();
}

function disposeSegment(seg: Segment): void {
  seg.head?.dispose();
  seg.out.dispose();
  for (const t of seg.context) t.dispose();
  for (const s of seg.steps) {
    s.input.dispose();
    s.rng?.cpu.dispose();
    s.rng?.device?.dispose();
  }
}
