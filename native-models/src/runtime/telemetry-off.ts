// Imported for its effect, first, by onnxruntime.ts: ONNX Runtime's telemetry (a device id and queued
// events under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, uploads where it can) is off before the
// library loads. The library reads this variable when it creates its environment; onnxruntime-node has
// no API switch of its own (its binding exposes none), so the variable is the whole of it. Worker
// processes inherit it from their parent and set it again themselves when they load the door module.
process.env.ORT_DISABLE_TELEMETRY = '1';
