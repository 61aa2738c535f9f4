/*
 * A Node-API module for the memory tests: trim() asks glibc to give back to the system every whole
 * free page it keeps (malloc_trim(0)), including those between live blocks, which free() never
 * returns. Without it a process's RSS also counts what garbage occupied between two collections
 * wherever a live block sits above it; with it, RSS after a collection is what is live.
 *
 * Only the few Node-API declarations it uses are written out (their ABI is stable across Node
 * versions, https://nodejs.org/api/n-api.html#node-api-version-matrix), so that building it needs
 * nothing but a C compiler: no Node headers, no node-gyp.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h> /* defines __GLIBC__ on glibc, through <features.h> */
#ifdef __GLIBC__
#include <malloc.h>
#endif

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);
typedef int napi_status;

extern napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb,
                                        void *data, napi_value *result);
extern napi_status napi_get_boolean(napi_env env, bool value, napi_value *result);

/* true when memory was given back; always false off glibc, whose allocator this is about. */
static napi_value trim(napi_env env, napi_callback_info info) {
  (void)info;
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) == 1;
#endif
  napi_value result = NULL;
  napi_get_boolean(env, released, &result);
  return result;
}

/* The module is the function itself. */
napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  (void)exports;
  napi_value function = NULL;
  napi_create_function(env, "trim", 4, trim, NULL, &function);
  return function;
}
