/**
 * The seeded generator used by the randomisation test and the parity/benchmark generators
 * (one shared implementation in src/util/random.ts).
 * @module
 */
export { rng } from '../util/random.ts';
