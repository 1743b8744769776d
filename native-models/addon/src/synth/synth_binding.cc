// Synthesis bindings (placeholder until the synthesis engine lands).
#include <napi.h>
void InitSynth(Napi::Env env, Napi::Object exports) {}
