/** The benchmark's workflow bundle: the product's workflows and the naive baseline beside them. */
export * from '../workflows/index.ts';
export * from './naive/workflows.ts';
