// The Kerberos store's password check, with MIT krb5's own library (libkrb5):
//   check({...}) -> Promise<{ kind, code, message }>   a password, validated against the keytab
//   probe({...}) -> Promise<{ kind, code, message }>   does the KDC know the principal (no key sent)
//   defaultRealm() -> string | null                     default_realm of krb5.conf
// Each call runs on libuv's thread pool (Napi::AsyncWorker) with a krb5_context of its own, so no
// krb5 object is ever shared between threads; the credentials live in memory only (no out
// ccache; krb5_verify_init_creds keeps its TGS exchange in a MEMORY ccache of its own) and no
// prompter is passed, so the library never asks anyone for anything. The password is copied
// once into a buffer of this call and wiped before the call ends. Why an addon and not a helper
// process or an npm package: docs/kerberos.md.
//
// Validation is never skipped: krb5_verify_init_creds runs with ap_req_nofail, so a missing or
// unreadable keytab or a key the KDC did not make is a failure, never a pass. A KDC that answers
// in the real one's place (KDC spoofing) can make the AS exchange succeed with any password, but
// cannot make a service ticket that the host's own key decrypts.

#include <napi.h>

#include <krb5/krb5.h>
#include <profile.h>
#include <string.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

// The contract's bound: a password of this many bytes or more is refused before any KDC is asked.
constexpr size_t kMaxPassword = 512;

struct Request {
  std::string principal;     // as the store built it from the login
  bool enterprise = false;   // parse it as an enterprise name (AD user principal names)
  std::string realm;         // empty: krb5.conf's default_realm
  std::vector<std::string> kdcs;  // empty: krb5.conf's KDCs for the realm
  std::string keytab;        // FILE: path
  std::string server;        // empty: the keytab's first key of the realm
  bool probe = false;        // ask only whether the KDC knows the principal
};

struct Answer {
  std::string kind;  // ok, bad_password, unknown, expired, disabled, password_expired, unavailable
  long code = 0;
  std::string message;
};

std::string ErrorText(krb5_context ctx, krb5_error_code code) {
  if (ctx == nullptr) return "krb5 error " + std::to_string(code);
  const char* m = krb5_get_error_message(ctx, code);
  std::string s = m != nullptr ? m : "krb5 error";
  krb5_free_error_message(ctx, m);
  return s;
}

// The KDC's answer to the AS exchange, as a fact. Anything not listed is "unavailable": it can
// never become a success.
std::string KindOf(krb5_error_code code) {
  switch (code) {
    case KRB5KDC_ERR_PREAUTH_FAILED:
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
      return "bad_password";
    case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
      return "unknown";
    case KRB5KDC_ERR_NAME_EXP:
      return "expired";
    case KRB5KDC_ERR_CLIENT_REVOKED:
      return "disabled";
    case KRB5KDC_ERR_KEY_EXP:
      return "password_expired";
    default:
      return "unavailable";
  }
}

// The store's KDCs over krb5.conf: a read-only profile whose answers are the system profile's,
// except the realm's KDC list (the configured KDCs, in order, and nothing else: no primary or
// master KDC to retry, no DNS lookup). A vtable profile, because a profile made from files is
// re-read from those files whenever a context is made from it.
struct Overlay {
  profile_t base = nullptr;
  std::string realm;
  std::vector<std::string> kdcs;
  int refs = 1;
};

bool Is(const char* const* names, const char* a, const char* b, const char* c) {
  return names[0] != nullptr && std::strcmp(names[0], a) == 0 && names[1] != nullptr && std::strcmp(names[1], b) == 0
      && ((c == nullptr && names[2] == nullptr) || (c != nullptr && names[2] != nullptr && std::strcmp(names[2], c) == 0 && names[3] == nullptr));
}

long StrList(const std::vector<std::string>& vals, char*** out) {
  char** v = static_cast<char**>(calloc(vals.size() + 1, sizeof(char*)));
  if (v == nullptr) return ENOMEM;
  for (size_t i = 0; i < vals.size(); i++) {
    v[i] = strdup(vals[i].c_str());
    if (v[i] == nullptr) {
      profile_free_list(v);
      return ENOMEM;
    }
  }
  *out = v;
  return 0;
}

long OverlayGet(void* cb, const char* const* names, char*** out) {
  auto* o = static_cast<Overlay*>(cb);
  const char* realm = o->realm.c_str();
  if (Is(names, "realms", realm, "kdc")) return StrList(o->kdcs, out);
  if (Is(names, "realms", realm, "primary_kdc") || Is(names, "realms", realm, "master_kdc")) return PROF_NO_RELATION;
  if (Is(names, "libdefaults", "dns_lookup_kdc", nullptr) || Is(names, "libdefaults", "dns_fallback", nullptr)) return StrList({"false"}, out);
  return profile_get_values(o->base, names, out);
}

void OverlayFree(void*, char** values) { profile_free_list(values); }

void OverlayCleanup(void* cb) {
  auto* o = static_cast<Overlay*>(cb);
  if (--o->refs == 0) {
    profile_release(o->base);
    delete o;
  }
}

// Contexts of one call share the overlay (one thread: no lock needed).
long OverlayCopy(void* cb, void** out) {
  static_cast<Overlay*>(cb)->refs++;
  *out = cb;
  return 0;
}

// A context of this call only, with the configured KDCs if any.
krb5_error_code MakeContext(const Request& r, krb5_context* out, std::string* why) {
  krb5_context base = nullptr;
  krb5_error_code ret = krb5_init_context(&base);
  if (ret != 0) {
    *why = "cannot read the Kerberos configuration: " + ErrorText(nullptr, ret);
    return ret;
  }
  if (r.kdcs.empty()) {
    *out = base;
    return 0;
  }
  auto* o = new Overlay();
  o->realm = r.realm;
  o->kdcs = r.kdcs;
  ret = krb5_get_profile(base, &o->base);
  profile_t profile = nullptr;
  if (ret == 0) {
    struct profile_vtable vt;
    std::memset(&vt, 0, sizeof vt);
    vt.minor_ver = 1;
    vt.get_values = OverlayGet;
    vt.free_values = OverlayFree;
    vt.cleanup = OverlayCleanup;
    vt.copy = OverlayCopy;
    ret = profile_init_vtable(&vt, o, &profile);
    if (ret == 0) {
      ret = krb5_init_context_profile(profile, 0, out);
      profile_release(profile);  // drops the first reference; the context holds its copy
    } else {
      OverlayCleanup(o);
    }
  } else {
    delete o;
  }
  if (ret != 0) *why = "cannot set the KDCs: " + ErrorText(base, ret);
  krb5_free_context(base);
  return ret;
}

// The principal to validate against: the configured one, or the first key of the realm in the
// keytab (what pam_krb5 and SSSD do with host/ keys, stated rather than guessed).
krb5_error_code ServerPrincipal(krb5_context ctx, krb5_keytab kt, const Request& r, krb5_principal* out, std::string* why) {
  if (!r.server.empty()) {
    krb5_error_code ret = krb5_parse_name(ctx, r.server.c_str(), out);
    if (ret != 0) *why = "validate_principal: " + ErrorText(ctx, ret);
    return ret;
  }
  krb5_kt_cursor cursor;
  krb5_error_code ret = krb5_kt_start_seq_get(ctx, kt, &cursor);
  if (ret != 0) {
    *why = "cannot read the keytab " + r.keytab + ": " + ErrorText(ctx, ret);
    return ret;
  }
  krb5_keytab_entry entry;
  bool found = false;
  while (!found && krb5_kt_next_entry(ctx, kt, &entry, &cursor) == 0) {
    const krb5_data& realm = entry.principal->realm;
    if (realm.length == r.realm.size() && std::memcmp(realm.data, r.realm.data(), realm.length) == 0) {
      ret = krb5_copy_principal(ctx, entry.principal, out);
      found = true;
    }
    krb5_free_keytab_entry_contents(ctx, &entry);
  }
  krb5_kt_end_seq_get(ctx, kt, &cursor);
  if (!found) {
    *why = "the keytab " + r.keytab + " holds no key of the realm " + r.realm;
    return KRB5_KT_NOTFOUND;
  }
  return ret;
}

// The probe's prompter: asked for the password only after the KDC answered for the principal.
constexpr krb5_error_code kRefused = KRB5_LIBOS_CANTREADPWD;
krb5_error_code RefusingPrompter(krb5_context, void*, const char*, const char*, int, krb5_prompt[]) {
  return kRefused;
}

Answer Run(const Request& r, const char* password) {
  Answer a;
  krb5_context ctx = nullptr;
  std::string why;
  krb5_error_code ret = MakeContext(r, &ctx, &why);
  if (ret != 0) return {"unavailable", ret, why};

  krb5_principal client = nullptr;
  krb5_principal server = nullptr;
  krb5_keytab kt = nullptr;
  krb5_get_init_creds_opt* opt = nullptr;
  krb5_creds creds;
  std::memset(&creds, 0, sizeof creds);
  bool have_creds = false;
  std::string ktname = "FILE:" + r.keytab;

  int flags = r.enterprise ? KRB5_PRINCIPAL_PARSE_ENTERPRISE : 0;
  ret = krb5_set_default_realm(ctx, r.realm.c_str());
  if (ret == 0) ret = krb5_parse_name_flags(ctx, r.principal.c_str(), flags, &client);
  if (ret != 0) {
    a = {"unavailable", ret, "cannot make a principal of the name: " + ErrorText(ctx, ret)};
    goto done;
  }
  ret = krb5_get_init_creds_opt_alloc(ctx, &opt);
  if (ret != 0) {
    a = {"unavailable", ret, ErrorText(ctx, ret)};
    goto done;
  }
  // A ticket that only lives for this check: not forwardable, not proxiable, no addresses.
  krb5_get_init_creds_opt_set_tkt_life(opt, 300);
  krb5_get_init_creds_opt_set_forwardable(opt, 0);
  krb5_get_init_creds_opt_set_proxiable(opt, 0);
  krb5_get_init_creds_opt_set_address_list(opt, nullptr);
  if (r.enterprise) krb5_get_init_creds_opt_set_canonicalize(opt, 1);

  if (r.probe) {
    // The AS exchange without a password: the KDC says whether it knows the principal and
    // whether it is expired or disabled; when the library then wants the user's key, the
    // prompter refuses, so no key (no guess) is ever sent and this never counts as a failed
    // login in the KDC's lockout.
    ret = krb5_get_init_creds_password(ctx, &creds, client, nullptr, RefusingPrompter, nullptr, 0, nullptr, opt);
    if (ret == 0) {
      have_creds = true;
      a = {"unavailable", 0, "a ticket without a password"};
    } else if (ret == kRefused) {
      a = {"ok", 0, "the KDC knows the principal"};
    } else {
      std::string kind = KindOf(ret);
      a = {kind == "bad_password" ? "unavailable" : kind, ret, ErrorText(ctx, ret)};
    }
    goto done;
  }

  ret = krb5_get_init_creds_password(ctx, &creds, client, password, nullptr, nullptr, 0, nullptr, opt);
  if (ret == KRB5KDC_ERR_KEY_EXP) {
    // The KDC says the key expired before it looks at the password. A ticket for the password
    // changing service is still issued to the right password (pam_krb5 does the same), so it
    // tells a right password from a wrong one. It proves nothing about the KDC, so it can only
    // ever lead to "password expired", never to a success.
    krb5_creds cp;
    std::memset(&cp, 0, sizeof cp);
    krb5_error_code r2 = krb5_get_init_creds_password(ctx, &cp, client, password, nullptr, nullptr, 0, "kadmin/changepw", opt);
    if (r2 == 0) {
      krb5_free_cred_contents(ctx, &cp);
      a = {"password_expired", ret, ErrorText(ctx, ret)};
    } else {
      std::string kind = KindOf(r2);
      a = {kind, r2, ErrorText(ctx, r2)};
    }
    goto done;
  }
  if (ret != 0) {
    a = {KindOf(ret), ret, ErrorText(ctx, ret)};
    goto done;
  }
  have_creds = true;

  {
    ret = krb5_kt_resolve(ctx, ktname.c_str(), &kt);
    if (ret != 0) {
      a = {"unavailable", ret, "cannot open the keytab " + r.keytab + ": " + ErrorText(ctx, ret)};
      goto done;
    }
    ret = ServerPrincipal(ctx, kt, r, &server, &why);
    if (ret != 0) {
      a = {"unavailable", ret, why};
      goto done;
    }
    krb5_verify_init_creds_opt vopt;
    krb5_verify_init_creds_opt_init(&vopt);
    krb5_verify_init_creds_opt_set_ap_req_nofail(&vopt, 1);
    ret = krb5_verify_init_creds(ctx, &creds, server, kt, nullptr, &vopt);
    if (ret != 0) {
      a = {"unavailable", ret, "the ticket did not validate against the keytab (a KDC that is not the realm's, or a keytab that does not match it): " + ErrorText(ctx, ret)};
      goto done;
    }
    a = {"ok", 0, "validated"};
  }

done:
  if (have_creds) krb5_free_cred_contents(ctx, &creds);
  if (opt != nullptr) krb5_get_init_creds_opt_free(ctx, opt);
  if (kt != nullptr) krb5_kt_close(ctx, kt);
  if (server != nullptr) krb5_free_principal(ctx, server);
  if (client != nullptr) krb5_free_principal(ctx, client);
  krb5_free_context(ctx);
  return a;
}

class CheckWorker : public Napi::AsyncWorker {
 public:
  CheckWorker(Napi::Env env, Request r, const uint8_t* pw, size_t len)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), req_(std::move(r)),
        password_(len + 1, 0) {
    if (len > 0) std::memcpy(password_.data(), pw, len);
  }

  ~CheckWorker() override { Wipe(); }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    answer_ = Run(req_, password_.data());
    Wipe();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", answer_.kind);
    o.Set("code", Napi::Number::New(env, static_cast<double>(answer_.code)));
    o.Set("message", answer_.message);
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  void Wipe() {
    if (!password_.empty()) explicit_bzero(password_.data(), password_.size());
  }

  Napi::Promise::Deferred deferred_;
  Request req_;
  std::vector<char> password_;
  Answer answer_;
};

std::string StringField(const Napi::Object& o, const char* name, bool required) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() && !required) return "";
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string(name) + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) throw Napi::TypeError::New(o.Env(), std::string(name) + " holds a NUL");
  return s;
}

Request ReadRequest(const Napi::Object& o) {
  Request r;
  r.principal = StringField(o, "principal", true);
  r.realm = StringField(o, "realm", true);
  r.keytab = StringField(o, "keytab", false);
  r.server = StringField(o, "server", false);
  r.enterprise = o.Get("enterprise").ToBoolean().Value();
  Napi::Value kdcs = o.Get("kdcs");
  if (kdcs.IsArray()) {
    Napi::Array arr = kdcs.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value k = arr.Get(i);
      if (!k.IsString()) throw Napi::TypeError::New(o.Env(), "kdcs must be strings");
      r.kdcs.push_back(k.As<Napi::String>().Utf8Value());
    }
  }
  if (r.realm.empty()) throw Napi::TypeError::New(o.Env(), "realm is empty");
  return r;
}

Napi::Value Check(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsBuffer()) {
    throw Napi::TypeError::New(env, "check(request, password: Buffer)");
  }
  Request r = ReadRequest(info[0].As<Napi::Object>());
  if (r.keytab.empty()) throw Napi::TypeError::New(env, "check needs a keytab");
  Napi::Buffer<uint8_t> pw = info[1].As<Napi::Buffer<uint8_t>>();
  // Refused here too, whatever the caller checked: an empty password (some KDCs treat it as
  // "no preauth") and one the contract bounds never reach the KDC, nor a NUL that would cut it.
  if (pw.Length() == 0 || pw.Length() >= kMaxPassword || std::memchr(pw.Data(), 0, pw.Length()) != nullptr) {
    throw Napi::RangeError::New(env, "password refused before asking the KDC");
  }
  auto* w = new CheckWorker(env, std::move(r), pw.Data(), pw.Length());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "probe(request)");
  Request r = ReadRequest(info[0].As<Napi::Object>());
  r.probe = true;
  auto* w = new CheckWorker(env, std::move(r), nullptr, 0);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value DefaultRealm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  krb5_context ctx = nullptr;
  if (krb5_init_context(&ctx) != 0) return env.Null();
  char* realm = nullptr;
  Napi::Value out = env.Null();
  if (krb5_get_default_realm(ctx, &realm) == 0) {
    out = Napi::String::New(env, realm);
    krb5_free_default_realm(ctx, realm);
  }
  krb5_free_context(ctx);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("check", Napi::Function::New(env, Check));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("defaultRealm", Napi::Function::New(env, DefaultRealm));
  return exports;
}

}  // namespace

NODE_API_MODULE(krb5_check, Init)
