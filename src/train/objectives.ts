/**
 * Training objectives of the paper (docs/paper.md §4, §5), as pure functions from score tensors to a scalar.
 * Scores are raw inner products; the dense paradigm divides them by its temperature (T = 0.01) before
 * every loss, the sparse paradigm uses T = 1.
 * @module
 */
import { Tensor, crossEntropy, klDiv, tidy } from '../torch/index.ts';

export type Objective = 'cl' | 'kd' | 'cl+kd';
export const OBJECTIVES: readonly Objective[] = ['cl', 'kd', 'cl+kd'];

/** Temperature of each paradigm's scores in training (docs/paper.md §3: dense T = 0.01; sparse none). */
export const TEMPERATURE = { sparse: 1, dense: 0.01 } as const;

/**
 * Contrastive loss (InfoNCE) over all contexts of the batch:
 *   L = (1/B) Σ_i −log softmax_c(s(q_i, c) / T)[pos_i]
 * q [B, D], contexts [C, D] ordered [pos_1..pos_B, negatives...] (the authors' layout), so query i's
 * target is context i; every query scores every positive and every hard negative in the batch.
 */
export function contrastiveLoss(q: Tensor, contexts: Tensor, temperature: number): Tensor {
  return tidy(() => {
    const B = q.size(0);
    if (contexts.size(0) < B) throw new Error(`lion: contrastive loss needs at least ${B} contexts (one positive per query), got ${contexts.size(0)}`);
    const scores = q.matmul(contexts.T).div(temperature); // [B, C]
    return crossEntropy(scores, Tensor.arange(0, B, 1, 'i64', q.device));
  });
}

/**
 * MarginMSE with one negative per query:
 *   L = mean_i ((s(q,p) − s(q,n))/T − (t_p − t_n))²
 * studentPos/studentNeg [B] raw scores, teacherPos/teacherNeg [B].
 */
export function marginMseLoss(studentPos: Tensor, studentNeg: Tensor, teacherPos: Tensor, teacherNeg: Tensor, temperature: number): Tensor {
  return tidy(() => studentPos.sub(studentNeg).div(temperature).sub(teacherPos.sub(teacherNeg)).square().mean());
}

/**
 * KL distillation over each query's own candidates (positive + its negatives):
 *   L = (1/B) Σ_q KL(softmax(t_q) ‖ softmax(s_q / T))
 * student [B, K] raw scores, teacher [B, K] teacher scores used as logits without temperature
 * (PyTorch KLDivLoss(batchmean, log_target=True) as the authors call it).
 */
export function klLoss(student: Tensor, teacher: Tensor, temperature: number): Tensor {
  return tidy(() => klDiv(student.div(temperature).logSoftmax(1), teacher.logSoftmax(1), { reduction: 'batchmean', logTarget: true }));
}

/**
 * The FLOPS regulariser of sparse vectors W [N, V]: Σ_j ((1/N) Σ_i |w_ij|)², a smooth proxy for the
 * number of floating-point operations an inverted index spends on them.
 */
export function flops(w: Tensor): Tensor {
  return tidy(() => w.abs().mean(0).square().sum());
}

/**
 * Quadratic warm-up of a FLOPS weight: λ(t) = λ · min(1, t / T)², T = ⌊totalSteps / 3⌋ (docs/paper.md §4).
 * Lion counts t in optimizer steps. The authors' RegWeightScheduler counts forward micro-batches, so
 * with gradient accumulation GA their ramp ends after totalSteps / (3·GA) optimizer steps; pass
 * `countsMicroBatches` with GA to reproduce that.
 */
export function flopsWeight(lambda: number, step: number, totalSteps: number, o: { countsMicroBatches?: number } = {}): number {
  const T = Math.floor(totalSteps / 3);
  const t = step * (o.countsMicroBatches ?? 1);
  if (T <= 0) return lambda;
  return lambda * Math.min(1, t / T) ** 2;
}

/** λ_q and λ_d of the paper for every size and objective (docs/paper.md §4). */
export const PAPER_FLOPS = { query: 0.05, doc: 0.04 } as const;

/** Linear warm-up from 0 to `peak` over `warmup` steps, then linear decay to 0 at `total` (HF's linear schedule). */
export function learningRate(step: number, o: { peak: number; warmup: number; total: number }): number {
  if (o.warmup > 0 && step < o.warmup) return (o.peak * step) / o.warmup;
  return o.peak * Math.max(0, (o.total - step) / Math.max(1, o.total - o.warmup));
}
