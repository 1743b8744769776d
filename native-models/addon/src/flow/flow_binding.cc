// Optical-flow bindings (placeholder until the flow engine lands).
#include <napi.h>
void InitFlow(Napi::Env env, Napi::Object exports) {}
