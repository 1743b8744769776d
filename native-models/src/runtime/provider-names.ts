// The execution providers by name, in the order they are tried: the one list every layer reads (the
// runtime, the job registry, the editor's settings and model manager). No ONNX Runtime here, so it loads
// anywhere (the editor's main process lists the choices without the native binding).

/** ORT does not fall back between providers by itself, so they are tried one at a time, in this order. */
export const PROVIDER_ORDER = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'] as const;
export type ProviderName = (typeof PROVIDER_ORDER)[number];

/** What the user may choose: a provider, or 'auto' (every one in order). */
export const PROVIDER_CHOICES = ['auto', ...PROVIDER_ORDER] as const;
export type ProviderChoice = (typeof PROVIDER_CHOICES)[number];
