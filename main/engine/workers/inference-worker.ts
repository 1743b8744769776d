// Inference worker: owns ONNX Runtime sessions and diffusion jobs.
export {};
