// The system's crypt(3) for every store: libxcrypt's crypt_rn, so each scheme the system
// knows ($y$, $gy$, $7$, $2b$/$2y$, $6$, $5$, $1$, DES, ...) is computed by the system's own
// code, on libuv's thread pool (a yescrypt check takes tens of milliseconds and must not hold
// the worker's event loop), with no process per login.
//   crypt(password: Buffer, setting: string) -> Promise<Buffer>   the whole crypt string
//   checkSalt(setting: string) -> 'ok' | 'invalid' | 'disabled' | 'legacy' | 'too-cheap'
// The password is copied into memory this file owns and wiped after use, with crypt's
// working area; the caller wipes its own Buffer.

#include <napi.h>

#include <crypt.h>
#include <string.h>

#include "pam_mapi_protocol.h"

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

namespace {

// crypt(3) settings are short ASCII strings; anything longer is not one.
constexpr size_t kMaxSetting = CRYPT_OUTPUT_SIZE - 1;
// The protocol's bound on a password, from its one definition (constants.json); a
// bound here too keeps a caller's mistake from copying megabytes.
constexpr size_t kMaxPassword = PMP_LIMIT_PASSWORD;

std::string SettingArgument(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Env env = info.Env();
  if (info.Length() <= index || !info[index].IsString()) {
    throw Napi::TypeError::New(env, std::string(fn) + ": setting must be a string");
  }
  std::string s = info[index].As<Napi::String>().Utf8Value();
  if (s.size() > kMaxSetting || s.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, std::string(fn) + ": setting is not a crypt(3) setting");
  }
  return s;
}

class CryptWorker : public Napi::AsyncWorker {
 public:
  CryptWorker(Napi::Env env, std::vector<char> password, std::string setting)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        password_(std::move(password)), setting_(std::move(setting)),
        data_(new struct crypt_data) {}

  ~CryptWorker() override {
    explicit_bzero(password_.data(), password_.size());
    explicit_bzero(data_.get(), sizeof(struct crypt_data));
    explicit_bzero(&output_[0], output_.size());
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // On a thread of libuv's pool: no V8 calls here.
  void Execute() override {
    memset(data_.get(), 0, sizeof(struct crypt_data));
    errno = 0;
    const char* out = crypt_rn(password_.data(), setting_.c_str(), data_.get(), sizeof(struct crypt_data));
    if (out == nullptr || out[0] == '*') {
      // EINVAL: a setting the system's libcrypt does not know or does not allow.
      SetError(errno == EINVAL || errno == 0 ? "the system's crypt(3) does not support this scheme or setting"
                                             : std::string("crypt(3) failed: ") + strerror(errno));
      return;
    }
    output_.assign(out);
  }

  void OnOK() override {
    Napi::Env env = Env();
    deferred_.Resolve(Napi::Buffer<char>::Copy(env, output_.data(), output_.size()));
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<char> password_;
  std::string setting_;
  std::unique_ptr<struct crypt_data> data_;
  std::string output_;
};

Napi::Value Crypt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "crypt: password must be a Buffer");
  Napi::Buffer<char> pw = info[0].As<Napi::Buffer<char>>();
  std::string setting = SettingArgument(info, 1, "crypt");
  if (pw.Length() > kMaxPassword) throw Napi::RangeError::New(env, "crypt: password too long");
  // crypt(3) takes a C string: a NUL would cut the password short, and a shorter password
  // must never match in its place.
  if (memchr(pw.Data(), '\0', pw.Length()) != nullptr) throw Napi::TypeError::New(env, "crypt: password holds a NUL byte");
  std::vector<char> password(pw.Data(), pw.Data() + pw.Length());
  password.push_back('\0');
  auto* worker = new CryptWorker(env, std::move(password), std::move(setting));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CheckSalt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string setting = SettingArgument(info, 0, "checkSalt");
  switch (crypt_checksalt(setting.c_str())) {
    case CRYPT_SALT_OK: return Napi::String::New(env, "ok");
    case CRYPT_SALT_METHOD_DISABLED: return Napi::String::New(env, "disabled");
    case CRYPT_SALT_METHOD_LEGACY: return Napi::String::New(env, "legacy");
#ifdef CRYPT_SALT_TOO_CHEAP
    case CRYPT_SALT_TOO_CHEAP: return Napi::String::New(env, "too-cheap");
#endif
    default: return Napi::String::New(env, "invalid");
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("crypt", Napi::Function::New(env, Crypt, "crypt"));
  exports.Set("checkSalt", Napi::Function::New(env, CheckSalt, "checkSalt"));
  return exports;
}

}  // namespace

NODE_API_MODULE(system_crypt, Init)
