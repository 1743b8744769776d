// What a case-kind runner (case-kinds.ts, scheduler-case.ts) gets from the manifest check (check-manifest.ts).
import type * as ort from '../runtime/onnxruntime';
import type { GraphSpec } from '../graphs';
import type { Precision } from '../onnx/graph';
import type { Component, WeightSource } from '../weights/model-weights';
import type { CaseTensors, Manifest, ManifestCase } from './manifest';

/** What a case-kind runner gets: its case, inputs, and lazily built models for the current layout. */
export interface CaseContext {
  manifest: Manifest;
  spec: ManifestCase;
  layout: string;
  precision: Precision;
  tensors: CaseTensors | undefined;
  /** Weights of one component in this layout, with the case's LoRA merged when it has one. */
  weights(component: Component): Promise<WeightSource>;
  /** A CPU session for a graph built from this layout's weights (cached across cases). */
  session(component: Component, graph: GraphSpec): Promise<ort.InferenceSession>;
  /** Compares `actual` with output `name` of the case file and records the result. */
  compare(name: string, actual: ArrayLike<number | bigint>): Promise<void>;
  /** Records a result computed by the runner itself (`output` may carry an index, e.g. "input_ids[3]"). */
  report(output: string, diff: number): void;
  /** Reads a case input as an ORT tensor (float32 or int64 as the manifest says). */
  input(name: string): Promise<ort.Tensor>;
}
