// Entry point of the native engine: each part registers its own functions on the exports object.
#include <napi.h>

void InitFlow(Napi::Env env, Napi::Object exports);
void InitSynth(Napi::Env env, Napi::Object exports);
void InitCanny(Napi::Env env, Napi::Object exports);
void InitWeights(Napi::Env env, Napi::Object exports);
void InitFresco(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitFlow(env, exports);
  InitSynth(env, exports);
  InitCanny(env, exports);
  InitWeights(env, exports);
  InitFresco(env, exports);
  return exports;
}

NODE_API_MODULE(rerender_native, Init)
