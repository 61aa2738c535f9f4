// The Node-API face of the native tier: argument checks and nothing else. Every bad argument
// becomes a JS TypeError or RangeError (with Node's ERR_* code); nothing here asserts or aborts.
// Buffers and typed arrays are used in place through their backing store: no copies.
//
// Exports:
//   isa                    the best loop this CPU runs: 'avx2' | 'sse2' | 'words'
//   scan, mask, unmask     the kernel contract (src/kernels/contract.ts) with that loop
//   variants               { [isa]: { scan, mask, unmask } } for every loop this CPU runs, so
//                          src/kernels/native.ts can honour SIMDWS_NATIVE_ISA and tests can cover each
#include <napi.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "contract.h"
#include "cpu.h"
#include "mask.h"
#include "scan.h"

namespace {

using simdws::Isa;
using simdws::XorFn;

// The loop each exported function uses arrives as the function's data pointer.
struct Variant {
  Isa isa;
  XorFn xor_fn;
};

const Variant kVariants[] = {
    {Isa::kAvx2, simdws::xor_for(Isa::kAvx2)},
    {Isa::kSse2, simdws::xor_for(Isa::kSse2)},
    {Isa::kWords, simdws::xor_for(Isa::kWords)},
};

constexpr std::size_t kMaxArgs = 5;
constexpr std::size_t kKeyBytes = 4;  // RFC 6455 section 5.3: a 32-bit masking key

struct Args {
  napi_value values[kMaxArgs];
  const Variant* variant;
};

bool get_args(napi_env env, napi_callback_info info, Args* args) {
  std::size_t argc = kMaxArgs;  // missing arguments arrive as undefined, then fail their type check
  void* data = nullptr;
  if (napi_get_cb_info(env, info, &argc, args->values, nullptr, &data) != napi_ok) return false;
  args->variant = static_cast<const Variant*>(data);
  return true;
}

bool throw_type(napi_env env, const char* name, const char* type) {
  const std::string message = std::string("The \"") + name + "\" argument must be " + type;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message.c_str());
  return false;
}

bool throw_range(napi_env env, const std::string& message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message.c_str());
  return false;
}

template <typename T>
bool get_typed_array(napi_env env, napi_value value, napi_typedarray_type expected, const char* name,
                     const char* type, T** data, std::size_t* length) {
  napi_typedarray_type actual;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &actual, length, &raw, nullptr, nullptr) != napi_ok ||
      actual != expected) {
    return throw_type(env, name, type);
  }
  *data = static_cast<T*>(raw);
  return true;
}

bool get_bytes(napi_env env, napi_value value, const char* name, std::uint8_t** data, std::size_t* length) {
  return get_typed_array(env, value, napi_uint8_array, name, "a Buffer or Uint8Array", data, length);
}

// The key is copied out first: it may be a view into the very bytes being (un)masked.
bool get_key(napi_env env, napi_value value, std::uint8_t (&key)[kKeyBytes]) {
  std::uint8_t* data = nullptr;
  std::size_t length = 0;
  if (!get_bytes(env, value, "key", &data, &length)) return false;
  if (length < kKeyBytes) {
    return throw_range(env, "The \"key\" argument must hold at least 4 bytes; it holds " + std::to_string(length));
  }
  std::memcpy(key, data, kKeyBytes);
  return true;
}

// An integer in [min, max], as a JS number.
bool get_index(napi_env env, napi_value value, const char* name, std::size_t min, std::size_t max,
               std::size_t* out) {
  double number = 0;
  if (napi_get_value_double(env, value, &number) != napi_ok) return throw_type(env, name, "of type number");
  // The range check comes first (it also rejects NaN), so the integer conversion below is defined.
  if (!(number >= static_cast<double>(min) && number <= static_cast<double>(max)) ||
      static_cast<double>(static_cast<std::uint64_t>(number)) != number) {
    char received[32];
    std::snprintf(received, sizeof received, "%.17g", number);
    return throw_range(env, std::string("The value of \"") + name + "\" is out of range. It must be an integer >= " +
                                std::to_string(min) + " and <= " + std::to_string(max) + ". Received " + received);
  }
  *out = static_cast<std::size_t>(number);
  return true;
}

// scan(chunk, start, end, records, options) -> records written
napi_value Scan(napi_env env, napi_callback_info info) {
  Args args;
  std::uint8_t* chunk = nullptr;
  std::int32_t* records = nullptr;
  std::size_t chunk_length = 0, start = 0, end = 0, words = 0;
  std::uint32_t options = 0;
  if (!get_args(env, info, &args) || !get_bytes(env, args.values[0], "chunk", &chunk, &chunk_length) ||
      !get_index(env, args.values[1], "start", 0, chunk_length, &start) ||
      !get_index(env, args.values[2], "end", start, chunk_length, &end) ||
      !get_typed_array(env, args.values[3], napi_int32_array, "records", "an Int32Array", &records, &words)) {
    return nullptr;
  }
  if (words < simdws::kMinRecords * simdws::kRecordWords) {
    throw_range(env, "The \"records\" argument must hold at least 2 records (" +
                         std::to_string(simdws::kMinRecords * simdws::kRecordWords) + " words); it holds " +
                         std::to_string(words) + " words");
    return nullptr;
  }
  if (napi_get_value_uint32(env, args.values[4], &options) != napi_ok) {
    throw_type(env, "options", "of type number");
    return nullptr;
  }
  const std::size_t count =
      simdws::scan(chunk, start, end, records, words / simdws::kRecordWords, options, args.variant->xor_fn);
  napi_value result = nullptr;
  napi_create_uint32(env, static_cast<std::uint32_t>(count), &result);
  return result;
}

// mask(source, key, output, offset, length): output[offset + i] = source[i] ^ key[i & 3]
napi_value Mask(napi_env env, napi_callback_info info) {
  Args args;
  std::uint8_t* source = nullptr;
  std::uint8_t* output = nullptr;
  std::uint8_t key[kKeyBytes];
  std::size_t source_length = 0, output_length = 0, offset = 0, length = 0;
  if (!get_args(env, info, &args) || !get_bytes(env, args.values[0], "source", &source, &source_length) ||
      !get_key(env, args.values[1], key) || !get_bytes(env, args.values[2], "output", &output, &output_length) ||
      !get_index(env, args.values[3], "offset", 0, output_length, &offset)) {
    return nullptr;
  }
  const std::size_t room = output_length - offset;
  if (!get_index(env, args.values[4], "length", 0, source_length < room ? source_length : room, &length)) {
    return nullptr;
  }
  if (length == 0) return nullptr;
  std::uint8_t* dst = output + offset;
  // The loops allow only exact aliasing; when the two ranges partly overlap (views of one buffer),
  // move the source into place first, as TypedArray.prototype.set would, then mask in place.
  if (dst != source && dst < source + length && source < dst + length) {
    std::memmove(dst, source, length);
    args.variant->xor_fn(dst, dst, length, key);
    return nullptr;
  }
  args.variant->xor_fn(source, dst, length, key);
  return nullptr;
}

// unmask(buffer, key, offset, length): buffer[offset + i] ^= key[i & 3]
napi_value Unmask(napi_env env, napi_callback_info info) {
  Args args;
  std::uint8_t* buffer = nullptr;
  std::uint8_t key[kKeyBytes];
  std::size_t buffer_length = 0, offset = 0, length = 0;
  if (!get_args(env, info, &args) || !get_bytes(env, args.values[0], "buffer", &buffer, &buffer_length) ||
      !get_key(env, args.values[1], key) || !get_index(env, args.values[2], "offset", 0, buffer_length, &offset) ||
      !get_index(env, args.values[3], "length", 0, buffer_length - offset, &length)) {
    return nullptr;
  }
  if (length == 0) return nullptr;
  args.variant->xor_fn(buffer + offset, buffer + offset, length, key);
  return nullptr;
}

Napi::Function make_function(Napi::Env env, const char* name, napi_callback callback, const Variant* variant) {
  napi_value fn = nullptr;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, const_cast<Variant*>(variant), &fn);
  return Napi::Function(env, fn);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const Isa best = simdws::best_isa();
  Napi::Object variants = Napi::Object::New(env);
  for (const Variant& variant : kVariants) {
    if (!simdws::isa_supported(variant.isa)) continue;
    Napi::Object fns = Napi::Object::New(env);
    fns.Set("scan", make_function(env, "scan", Scan, &variant));
    fns.Set("mask", make_function(env, "mask", Mask, &variant));
    fns.Set("unmask", make_function(env, "unmask", Unmask, &variant));
    variants.Set(simdws::isa_name(variant.isa), fns);
    if (variant.isa == best) {
      exports.Set("scan", fns.Get("scan"));
      exports.Set("mask", fns.Get("mask"));
      exports.Set("unmask", fns.Get("unmask"));
    }
  }
  exports.Set("isa", simdws::isa_name(best));
  exports.Set("variants", variants);
  return exports;
}

}  // namespace

NODE_API_MODULE(simdws, Init)
