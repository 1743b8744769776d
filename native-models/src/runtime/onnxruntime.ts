// The one door to ONNX Runtime: every module (engine, workers, tests, benches) imports `ort` from here,
// never from 'onnxruntime-node' directly, so that telemetry is off in every process that loads it
// (see telemetry-off.ts; test/unit/onnxruntime-door.test.ts keeps the rule).
import './telemetry-off';

export * from 'onnxruntime-node';
