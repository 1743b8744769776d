// Propagation worker: native flow, synthesis and blending, ffmpeg decode/encode (filled in by the engine).
export {};
