/**
 * A 2-layer MLP fitted to a fixed nonlinear target with AdamW: the smallest end-to-end use of the
 * engine (forward, backward, optimizer step, disposal), used by `lion demo` and the memory test.
 * @module
 */
import { AdamW, Linear, Module, Tensor, manualSeed, mseLoss, tidy, type DType } from '../torch/index.ts';

export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(inDim: number, hidden: number, outDim: number, dtype: DType = 'f32') {
    super();
    this.fc1 = this.child('fc1', new Linear(inDim, hidden, { dtype }));
    this.fc2 = this.child('fc2', new Linear(hidden, outDim, { dtype }));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => this.fc2.forward(this.fc1.forward(x).silu()));
  }
}

export interface MlpRunOptions {
  steps: number;
  batch?: number;
  hidden?: number;
  lr?: number;
  seed?: number;
  /** Called after each step with the loss (reading it costs a sync; the loop reads it anyway). */
  onStep?: (step: number, loss: number) => void;
}

/** Trains on y = sin(3·x₀) + x₁² − x₂·x₃ with x ~ N(0, 1); returns the losses per step. */
export function trainMlp(o: MlpRunOptions): number[] {
  manualSeed(o.seed ?? 0);
  const model = new Mlp(4, o.hidden ?? 64, 1);
  const opt = new AdamW(model.parameters(), { lr: o.lr ?? 3e-3, weightDecay: 0.01 });
  const losses: number[] = [];
  try {
    for (let step = 1; step <= o.steps; step++) {
      const loss = tidy(() => {
        const x = Tensor.randn([o.batch ?? 128, 4]); // [B, 4]
        const [x0, x1, x2, x3] = [0, 1, 2, 3].map((i) => x.narrow(1, i, 1)) as [Tensor, Tensor, Tensor, Tensor];
        const y = x0.mul(3).sin().add(x1.square()).sub(x2.mul(x3)); // [B, 1]
        const l = mseLoss(model.forward(x), y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.item();
      });
      losses.push(loss);
      o.onStep?.(step, loss);
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  return losses;
}
