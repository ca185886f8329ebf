// pam_client.cc - a small, real libpam client for Node (node-addon-api, C++17, exceptions on).
//
// Exports:
//   runTransaction(options) -> Promise<result>   one libpam transaction on a libuv worker thread
//   codes                   -> { PAM_SUCCESS: 0, ... }  as compiled from <security/_pam_types.h>
//   peerCredentials(fd)     -> { pid, uid, gid }   getsockopt(SO_PEERCRED), synchronous
//   checkModule(path)       -> { loaded, error? , missing? }   dlopen a PAM module as libpam
//                              would and list the pam_sm_* entry points it lacks (the doctor)
//
// The conversation is scripted: all answers are handed over up front, because the conversation
// function runs on the worker thread, deep inside libpam, while the JS thread may be busy; it
// can never call back into JS. Each transaction owns its own state (passed as appdata_ptr), so
// any number of transactions can run concurrently (bounded by the libuv thread pool size).

#include <napi.h>

#include <security/pam_appl.h>

#include <dlfcn.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Return codes

struct CodeEntry {
  const char* name;
  int value;
};

#define PAM_CODE(x) {#x, x}
const CodeEntry kCodes[] = {
    PAM_CODE(PAM_SUCCESS),
    PAM_CODE(PAM_OPEN_ERR),
    PAM_CODE(PAM_SYMBOL_ERR),
    PAM_CODE(PAM_SERVICE_ERR),
    PAM_CODE(PAM_SYSTEM_ERR),
    PAM_CODE(PAM_BUF_ERR),
    PAM_CODE(PAM_PERM_DENIED),
    PAM_CODE(PAM_AUTH_ERR),
    PAM_CODE(PAM_CRED_INSUFFICIENT),
    PAM_CODE(PAM_AUTHINFO_UNAVAIL),
    PAM_CODE(PAM_USER_UNKNOWN),
    PAM_CODE(PAM_MAXTRIES),
    PAM_CODE(PAM_NEW_AUTHTOK_REQD),
    PAM_CODE(PAM_ACCT_EXPIRED),
    PAM_CODE(PAM_SESSION_ERR),
    PAM_CODE(PAM_CRED_UNAVAIL),
    PAM_CODE(PAM_CRED_EXPIRED),
    PAM_CODE(PAM_CRED_ERR),
    PAM_CODE(PAM_NO_MODULE_DATA),
    PAM_CODE(PAM_CONV_ERR),
    PAM_CODE(PAM_AUTHTOK_ERR),
    PAM_CODE(PAM_AUTHTOK_RECOVERY_ERR),
    PAM_CODE(PAM_AUTHTOK_LOCK_BUSY),
    PAM_CODE(PAM_AUTHTOK_DISABLE_AGING),
    PAM_CODE(PAM_TRY_AGAIN),
    PAM_CODE(PAM_IGNORE),
    PAM_CODE(PAM_ABORT),
    PAM_CODE(PAM_AUTHTOK_EXPIRED),
    PAM_CODE(PAM_MODULE_UNKNOWN),
    PAM_CODE(PAM_BAD_ITEM),
    PAM_CODE(PAM_CONV_AGAIN),
    PAM_CODE(PAM_INCOMPLETE),
};
#undef PAM_CODE

// A switch (rather than a table lookup) so that the compiler checks the values are distinct.
std::string CodeName(int code) {
  switch (code) {
#define CASE(x) \
  case x:       \
    return #x;
    CASE(PAM_SUCCESS)
    CASE(PAM_OPEN_ERR)
    CASE(PAM_SYMBOL_ERR)
    CASE(PAM_SERVICE_ERR)
    CASE(PAM_SYSTEM_ERR)
    CASE(PAM_BUF_ERR)
    CASE(PAM_PERM_DENIED)
    CASE(PAM_AUTH_ERR)
    CASE(PAM_CRED_INSUFFICIENT)
    CASE(PAM_AUTHINFO_UNAVAIL)
    CASE(PAM_USER_UNKNOWN)
    CASE(PAM_MAXTRIES)
    CASE(PAM_NEW_AUTHTOK_REQD)
    CASE(PAM_ACCT_EXPIRED)
    CASE(PAM_SESSION_ERR)
    CASE(PAM_CRED_UNAVAIL)
    CASE(PAM_CRED_EXPIRED)
    CASE(PAM_CRED_ERR)
    CASE(PAM_NO_MODULE_DATA)
    CASE(PAM_CONV_ERR)
    CASE(PAM_AUTHTOK_ERR)
    CASE(PAM_AUTHTOK_RECOVERY_ERR)
    CASE(PAM_AUTHTOK_LOCK_BUSY)
    CASE(PAM_AUTHTOK_DISABLE_AGING)
    CASE(PAM_TRY_AGAIN)
    CASE(PAM_IGNORE)
    CASE(PAM_ABORT)
    CASE(PAM_AUTHTOK_EXPIRED)
    CASE(PAM_MODULE_UNKNOWN)
    CASE(PAM_BAD_ITEM)
    CASE(PAM_CONV_AGAIN)
    CASE(PAM_INCOMPLETE)
#undef CASE
    default:
      return "PAM_UNKNOWN_" + std::to_string(code);
  }
}

// pam_strerror never returns NULL in Linux-PAM, but be defensive.
std::string StrError(pam_handle_t* pamh, int code) {
  const char* s = pam_strerror(pamh, code);
  return s != nullptr ? std::string(s) : std::string();
}

// ---------------------------------------------------------------------------------------------
// Transaction description (parsed on the JS thread) and state (used on the worker thread)

enum class Step { kAuthenticate, kAcctMgmt, kSetcred };

const char* StepName(Step s) {
  switch (s) {
    case Step::kAuthenticate:
      return "authenticate";
    case Step::kAcctMgmt:
      return "acct_mgmt";
    case Step::kSetcred:
      return "setcred";
  }
  return "?";
}

struct OptString {
  bool present = false;
  std::string value;
};

struct StepResult {
  Step step;
  int code;
  std::string name;
  std::string text;
};

struct Prompt {
  int style;
  std::string message;
};

struct Transaction {
  // Inputs.
  std::string service;
  OptString user;
  OptString conf_dir;
  OptString rhost, ruser, tty, authtok;
  std::vector<Step> steps;
  std::vector<std::string> answers;
  bool continue_on_failure = false;
  bool silent = false;
  bool no_conversation = false;
  bool record_fail_delay = false;

  // Conversation / fail-delay state, touched only by the worker thread (through appdata_ptr).
  size_t next_answer = 0;
  std::vector<Prompt> prompts;
  bool fail_delay_called = false;
  int fail_delay_retval = 0;
  unsigned fail_delay_usec = 0;

  // Outputs.
  int start_code = PAM_SUCCESS;
  std::string start_name;
  std::string start_text;
  std::vector<StepResult> results;

  // Set when pam_set_item refuses one of our items; reported as a rejection.
  bool item_failed = false;
  std::string item_failed_item;
  int item_failed_code = PAM_SUCCESS;
  std::string item_failed_text;

  void Wipe() {
    for (std::string& a : answers) {
      if (!a.empty()) explicit_bzero(&a[0], a.size());
    }
    if (!authtok.value.empty()) explicit_bzero(&authtok.value[0], authtok.value.size());
  }

  ~Transaction() { Wipe(); }
};

void FreeResponses(struct pam_response* resp, int n) {
  if (resp == nullptr) return;
  for (int i = 0; i < n; i++) {
    if (resp[i].resp != nullptr) {
      explicit_bzero(resp[i].resp, std::strlen(resp[i].resp));
      std::free(resp[i].resp);
    }
  }
  std::free(resp);
}

// Linux-PAM passes `msg` as an array of num_msg pointers (msg[i]->...), not as a pointer to an
// array of structs (the Solaris reading).
extern "C" int ScriptedConv(int num_msg, const struct pam_message** msg,
                            struct pam_response** resp, void* appdata_ptr) {
  if (resp == nullptr) return PAM_CONV_ERR;
  *resp = nullptr;
  if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG || msg == nullptr || appdata_ptr == nullptr) {
    return PAM_CONV_ERR;
  }
  auto* t = static_cast<Transaction*>(appdata_ptr);

  auto* replies =
      static_cast<struct pam_response*>(std::calloc(static_cast<size_t>(num_msg), sizeof(struct pam_response)));
  if (replies == nullptr) return PAM_BUF_ERR;

  for (int i = 0; i < num_msg; i++) {
    const struct pam_message* m = msg[i];
    if (m == nullptr) {
      FreeResponses(replies, num_msg);
      return PAM_CONV_ERR;
    }
    switch (m->msg_style) {
      case PAM_PROMPT_ECHO_OFF:
      case PAM_PROMPT_ECHO_ON: {
        t->prompts.push_back(Prompt{m->msg_style, m->msg != nullptr ? m->msg : ""});
        if (t->next_answer >= t->answers.size()) {
          // Answers ran out.
          FreeResponses(replies, num_msg);
          return PAM_CONV_ERR;
        }
        // Answers with an embedded NUL are truncated at it: C sees no further anyway.
        replies[i].resp = strdup(t->answers[t->next_answer].c_str());
        if (replies[i].resp == nullptr) {
          FreeResponses(replies, num_msg);
          return PAM_BUF_ERR;
        }
        t->next_answer++;
        break;
      }
      case PAM_ERROR_MSG:
      case PAM_TEXT_INFO:
        t->prompts.push_back(Prompt{m->msg_style, m->msg != nullptr ? m->msg : ""});
        replies[i].resp = nullptr;  // consumes no answer
        break;
      default:
        // PAM_RADIO_TYPE, PAM_BINARY_PROMPT and anything else: not supported by this client.
        FreeResponses(replies, num_msg);
        return PAM_CONV_ERR;
    }
    replies[i].resp_retcode = 0;
  }
  *resp = replies;
  return PAM_SUCCESS;
}

extern "C" void RecordFailDelay(int retval, unsigned usec_delay, void* appdata_ptr) {
  if (appdata_ptr == nullptr) return;
  auto* t = static_cast<Transaction*>(appdata_ptr);
  // Keep the most recent request (libpam calls this at most once per pam_authenticate etc.).
  t->fail_delay_called = true;
  t->fail_delay_retval = retval;
  t->fail_delay_usec = usec_delay;
}

using FailDelayFn = void (*)(int, unsigned, void*);

// ---------------------------------------------------------------------------------------------
// Argument parsing (JS thread)

// Reads a JS string as UTF-8 directly into `out` (no intermediate copies left behind).
void ReadUtf8Into(Napi::Env env, Napi::Value v, std::string& out) {
  size_t len = 0;
  napi_status st = napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  NAPI_THROW_IF_FAILED_VOID(env, st);
  out.assign(len, '\0');
  // napi_get_value_string_utf8 writes a terminating NUL, so give it len + 1 bytes: the
  // std::string buffer always has room for the terminator at out[len].
  st = napi_get_value_string_utf8(env, v, &out[0], len + 1, &len);
  NAPI_THROW_IF_FAILED_VOID(env, st);
}

[[noreturn]] void ThrowType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "runTransaction: " + msg);
}

bool IsNullish(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

// A string that must not contain NUL (it would silently change meaning in C).
std::string RequireCString(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) ThrowType(env, what + " must be a string");
  std::string s;
  ReadUtf8Into(env, v, s);
  if (s.find('\0') != std::string::npos) ThrowType(env, what + " must not contain NUL");
  return s;
}

void OptionalCString(Napi::Env env, const Napi::Value& v, const std::string& what,
                     OptString& out) {
  if (IsNullish(v)) return;
  out.value = RequireCString(env, v, what + " (string, null or undefined)");
  out.present = true;
}

bool OptionalBool(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (IsNullish(v)) return false;
  if (!v.IsBoolean()) ThrowType(env, what + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

void ParseOptions(Napi::Env env, const Napi::Value& arg, Transaction& t) {
  if (!arg.IsObject() || arg.IsArray()) ThrowType(env, "options must be an object");
  Napi::Object o = arg.As<Napi::Object>();

  t.service = RequireCString(env, o.Get("service"), "options.service");
  OptionalCString(env, o.Get("user"), "options.user", t.user);
  OptionalCString(env, o.Get("confDir"), "options.confDir", t.conf_dir);

  Napi::Value items = o.Get("items");
  if (!IsNullish(items)) {
    if (!items.IsObject() || items.IsArray()) ThrowType(env, "options.items must be an object");
    Napi::Object io = items.As<Napi::Object>();
    OptionalCString(env, io.Get("rhost"), "options.items.rhost", t.rhost);
    OptionalCString(env, io.Get("ruser"), "options.items.ruser", t.ruser);
    OptionalCString(env, io.Get("tty"), "options.items.tty", t.tty);
    Napi::Value tok = io.Get("authtok");
    if (!IsNullish(tok)) {
      if (!tok.IsString()) ThrowType(env, "options.items.authtok must be a string");
      ReadUtf8Into(env, tok, t.authtok.value);  // C-string semantics: truncated at a NUL
      t.authtok.present = true;
    }
  }

  Napi::Value steps = o.Get("steps");
  if (!steps.IsArray()) ThrowType(env, "options.steps must be an array");
  Napi::Array sa = steps.As<Napi::Array>();
  for (uint32_t i = 0; i < sa.Length(); i++) {
    Napi::Value s = sa.Get(i);
    if (!s.IsString()) ThrowType(env, "options.steps[" + std::to_string(i) + "] must be a string");
    std::string name = s.As<Napi::String>().Utf8Value();
    if (name == "authenticate") {
      t.steps.push_back(Step::kAuthenticate);
    } else if (name == "acct_mgmt") {
      t.steps.push_back(Step::kAcctMgmt);
    } else if (name == "setcred") {
      t.steps.push_back(Step::kSetcred);
    } else {
      ThrowType(env, "options.steps[" + std::to_string(i) +
                         "] must be \"authenticate\", \"acct_mgmt\" or \"setcred\"");
    }
  }

  Napi::Value answers = o.Get("answers");
  if (!IsNullish(answers)) {
    if (!answers.IsArray()) ThrowType(env, "options.answers must be an array of strings");
    Napi::Array aa = answers.As<Napi::Array>();
    uint32_t n = aa.Length();
    t.answers.reserve(n);  // no reallocation, so no stray copies of answers
    for (uint32_t i = 0; i < n; i++) {
      Napi::Value a = aa.Get(i);
      if (!a.IsString()) {
        ThrowType(env, "options.answers[" + std::to_string(i) + "] must be a string");
      }
      t.answers.emplace_back();
      ReadUtf8Into(env, a, t.answers.back());
    }
  }

  t.continue_on_failure = OptionalBool(env, o.Get("continueOnFailure"), "options.continueOnFailure");
  t.silent = OptionalBool(env, o.Get("silent"), "options.silent");
  t.record_fail_delay = OptionalBool(env, o.Get("recordFailDelay"), "options.recordFailDelay");

  Napi::Value conv = o.Get("conversation");
  if (!IsNullish(conv)) {
    if (!conv.IsString()) ThrowType(env, "options.conversation must be \"scripted\" or \"none\"");
    std::string c = conv.As<Napi::String>().Utf8Value();
    if (c == "none") {
      t.no_conversation = true;
    } else if (c != "scripted") {
      ThrowType(env, "options.conversation must be \"scripted\" or \"none\"");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The worker

class TransactionWorker : public Napi::AsyncWorker {
 public:
  TransactionWorker(Napi::Env env, Transaction* t)
      : Napi::AsyncWorker(env, "pam_client.runTransaction"),
        deferred_(Napi::Promise::Deferred::New(env)),
        t_(t) {}

  ~TransactionWorker() override { delete t_; }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    Transaction& t = *t_;

    // Conversation "none": the conv struct has a NULL function pointer. Tested on Linux-PAM
    // 1.5.2: pam_start/pam_start_confdir accept that (they only check the struct pointer), so
    // no always-PAM_CONV_ERR fallback is needed. Modules that try to converse then fail in
    // their own way: pam_unix (pam_get_authtok -> pam_prompt: "no conversation function")
    // returns PAM_AUTHTOK_ERR; pam_echo ignores the failure and returns PAM_SUCCESS.
    struct pam_conv conv;
    conv.conv = t.no_conversation ? nullptr : ScriptedConv;
    conv.appdata_ptr = &t;

    pam_handle_t* pamh = nullptr;
    const char* user = t.user.present ? t.user.value.c_str() : nullptr;
    int rc;
    if (t.conf_dir.present) {
      rc = pam_start_confdir(t.service.c_str(), user, &conv, t.conf_dir.value.c_str(), &pamh);
    } else {
      rc = pam_start(t.service.c_str(), user, &conv, &pamh);
    }
    t.start_code = rc;
    t.start_name = CodeName(rc);
    t.start_text = StrError(pamh, rc);
    if (rc != PAM_SUCCESS) {
      // Linux-PAM frees the handle and NULLs it when pam_start fails; nothing to pam_end.
      t.Wipe();
      return;
    }

    int last = PAM_SUCCESS;
    auto set_item = [&](int item, const char* item_name, const OptString& v) -> bool {
      if (!v.present) return true;
      int r = pam_set_item(pamh, item, v.value.c_str());
      if (r != PAM_SUCCESS) {
        t.item_failed = true;
        t.item_failed_item = item_name;
        t.item_failed_code = r;
        t.item_failed_text = StrError(pamh, r);
        last = r;
        return false;
      }
      return true;
    };

    bool ok = set_item(PAM_RHOST, "PAM_RHOST", t.rhost) &&
              set_item(PAM_RUSER, "PAM_RUSER", t.ruser) && set_item(PAM_TTY, "PAM_TTY", t.tty) &&
              set_item(PAM_AUTHTOK, "PAM_AUTHTOK", t.authtok);
    if (ok && t.record_fail_delay) {
      FailDelayFn fn = RecordFailDelay;
      int r = pam_set_item(pamh, PAM_FAIL_DELAY, reinterpret_cast<const void*>(fn));
      if (r != PAM_SUCCESS) {
        t.item_failed = true;
        t.item_failed_item = "PAM_FAIL_DELAY";
        t.item_failed_code = r;
        t.item_failed_text = StrError(pamh, r);
        last = r;
        ok = false;
      }
    }

    if (ok) {
      const int flags = t.silent ? static_cast<int>(PAM_SILENT) : 0;
      for (Step s : t.steps) {
        int r = PAM_SYSTEM_ERR;
        switch (s) {
          case Step::kAuthenticate:
            r = pam_authenticate(pamh, flags);
            break;
          case Step::kAcctMgmt:
            r = pam_acct_mgmt(pamh, flags);
            break;
          case Step::kSetcred:
            // Linux-PAM substitutes PAM_ESTABLISH_CRED when no credential action is given.
            r = pam_setcred(pamh, flags);
            break;
        }
        last = r;
        t.results.push_back(StepResult{s, r, CodeName(r), StrError(pamh, r)});
        if (r != PAM_SUCCESS && !t.continue_on_failure) break;
      }
    }

    pam_end(pamh, last);
    t.Wipe();

    if (t.item_failed) {
      SetError("pam_set_item(" + t.item_failed_item + ") failed: " + CodeName(t.item_failed_code) +
               " (" + t.item_failed_text + ")");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Transaction& t = *t_;
    Napi::Object result = Napi::Object::New(env);

    Napi::Array steps = Napi::Array::New(env, t.results.size());
    for (size_t i = 0; i < t.results.size(); i++) {
      const StepResult& r = t.results[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("step", StepName(r.step));
      o.Set("code", Napi::Number::New(env, r.code));
      o.Set("name", r.name);
      o.Set("text", r.text);
      steps.Set(static_cast<uint32_t>(i), o);
    }
    result.Set("steps", steps);

    Napi::Array prompts = Napi::Array::New(env, t.prompts.size());
    for (size_t i = 0; i < t.prompts.size(); i++) {
      const Prompt& p = t.prompts[i];
      const char* style = "info";
      switch (p.style) {
        case PAM_PROMPT_ECHO_OFF:
          style = "echo_off";
          break;
        case PAM_PROMPT_ECHO_ON:
          style = "echo_on";
          break;
        case PAM_ERROR_MSG:
          style = "error";
          break;
        default:
          style = "info";
          break;
      }
      Napi::Object o = Napi::Object::New(env);
      o.Set("style", style);
      o.Set("message", p.message);
      prompts.Set(static_cast<uint32_t>(i), o);
    }
    result.Set("prompts", prompts);

    if (t.fail_delay_called) {
      Napi::Object fd = Napi::Object::New(env);
      fd.Set("retval", Napi::Number::New(env, t.fail_delay_retval));
      fd.Set("usec", Napi::Number::New(env, static_cast<double>(t.fail_delay_usec)));
      result.Set("failDelay", fd);
    } else {
      result.Set("failDelay", env.Null());
    }

    result.Set("startCode", Napi::Number::New(env, t.start_code));
    result.Set("startName", t.start_name);
    result.Set("startText", t.start_text);

    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    Napi::Object err = e.Value();
    if (t_->item_failed) {
      err.Set("item", t_->item_failed_item);
      err.Set("pamCode", Napi::Number::New(env, t_->item_failed_code));
      err.Set("pamName", CodeName(t_->item_failed_code));
    }
    deferred_.Reject(err);
  }

 private:
  Napi::Promise::Deferred deferred_;
  Transaction* t_;
};

Napi::Value RunTransaction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowType(env, "expected an options object");
  auto* t = new Transaction();
  try {
    ParseOptions(env, info[0], *t);
  } catch (...) {
    delete t;  // wipes any answers read so far
    throw;
  }
  auto* w = new TransactionWorker(env, t);  // owns t from here on
  Napi::Promise p = w->Promise();
  w->Queue();  // the worker deletes itself after OnOK/OnError
  return p;
}

// ---------------------------------------------------------------------------------------------
// SO_PEERCRED

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "peerCredentials: fd must be a number");
  }
  double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || static_cast<double>(static_cast<int>(d)) != d) {
    throw Napi::TypeError::New(env, "peerCredentials: fd must be a non-negative integer");
  }
  int fd = static_cast<int>(d);

  struct ucred cred;
  std::memset(&cred, 0, sizeof cred);
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    int e = errno;
    Napi::Error err = Napi::Error::New(
        env, std::string("peerCredentials: getsockopt(SO_PEERCRED) failed: ") + std::strerror(e));
    err.Set("errno", Napi::Number::New(env, e));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    if (const char* n = strerrorname_np(e)) err.Set("code", n);
#endif
    throw err;
  }
  if (len != sizeof cred) {
    throw Napi::Error::New(env, "peerCredentials: getsockopt(SO_PEERCRED) returned a short struct");
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, static_cast<double>(cred.pid)));
  o.Set("uid", Napi::Number::New(env, static_cast<double>(cred.uid)));
  o.Set("gid", Napi::Number::New(env, static_cast<double>(cred.gid)));
  return o;
}

// ---------------------------------------------------------------------------------------------
// Module check: does a PAM module load the way libpam loads it, and export the PAM entry points?
// For `pam-mapi doctor`. The handle is closed again; nothing of the module runs.

Napi::Value CheckModule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "checkModule: path must be a string");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Object o = Napi::Object::New(env);
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    o.Set("loaded", false);
    o.Set("error", why != nullptr ? why : "dlopen failed");
    return o;
  }
  Napi::Array missing = Napi::Array::New(env);
  uint32_t n = 0;
  for (const char* sym : {"pam_sm_authenticate", "pam_sm_acct_mgmt", "pam_sm_setcred"}) {
    if (dlsym(handle, sym) == nullptr) missing.Set(n++, sym);
  }
  dlclose(handle);
  o.Set("loaded", true);
  o.Set("missing", missing);
  return o;
}

// ---------------------------------------------------------------------------------------------

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("runTransaction", Napi::Function::New(env, RunTransaction, "runTransaction"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("checkModule", Napi::Function::New(env, CheckModule, "checkModule"));
  Napi::Object codes = Napi::Object::New(env);
  for (const CodeEntry& c : kCodes) codes.Set(c.name, Napi::Number::New(env, c.value));
  exports.Set("codes", codes);
  return exports;
}

}  // namespace

NODE_API_MODULE(pam_client, Init)
