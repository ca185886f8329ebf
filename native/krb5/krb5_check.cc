// The krb5 store's password check, with MIT krb5's own library (libkrb5):
//   check(req, password) -> Promise<Answer>   a password, validated against the keytab
//   probe(req) -> Promise<Answer>             does the KDC know the principal (no key is sent)
//   selfTest(req) -> Promise<Answer>          the doctor's: the keytab's key against the KDC
//   defaultRealm() -> string | null           default_realm of krb5.conf
//   realmKdcs(realm) -> string[]              the realm's KDCs in krb5.conf
// Answer: { kind, code, message, skew, maxSkew, failures: ["kdc: why"], answered: kdc | null }.
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

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace {

// The contract's bound: a password of this many bytes or more is refused before any KDC is asked.
constexpr size_t kMaxPassword = 512;

struct Request {
  std::string principal;     // as the store built it from the login
  bool enterprise = false;   // parse it as an enterprise name (AD user principal names)
  std::string realm;         // empty: krb5.conf's default_realm
  std::vector<std::string> kdcs;  // in the order to try them
  int budget_ms = 5000;      // for the whole check
  std::string keytab;        // FILE: path
  std::string server;        // empty: the keytab's first key of the realm
  bool probe = false;        // ask only whether the KDC knows the principal
  bool self_test = false;    // the doctor's: a ticket as the validating principal, validated
};

// MIT krb5's clockskew when krb5.conf sets none: the difference Kerberos allows, in seconds.
constexpr long kDefaultClockSkew = 300;

struct Answer {
  std::string kind;  // ok, bad_password, unknown, expired, disabled, password_expired, unavailable
  long code = 0;
  std::string message;
  // A fact, not a decision (src/stores/krb5/clock.ts decides): when the KDC issued a ticket, how
  // far its clock (the ticket's authtime) was outside this host's clock during the exchange, in
  // seconds, negative when the KDC is behind. The library may have adjusted to the KDC's clock
  // (kdc_timesync; with pre-authentication it takes the KDC's time from the "preauthentication
  // required" error), so its own checks do not notice a skew that the ticket still shows.
  bool has_skew = false;
  long skew = 0;
  long max_skew = kDefaultClockSkew;  // krb5.conf's clockskew, the allowed difference
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

// Every message to a KDC goes through SendHook instead of the library's own sending, which may
// wait about 30 s for a KDC that does not answer: the KDCs are the store's, in the store's order,
// over TCP, and the whole check (every exchange) ends at one deadline. A KDC that failed once in
// a check is not asked again in it.
struct Transport {
  std::string realm;
  std::vector<std::string> kdcs;
  std::vector<std::string> failures;  // "kdc: why", in order
  std::vector<bool> failed;
  std::string answered;               // the last KDC that answered
  std::chrono::steady_clock::time_point deadline;
};

constexpr uint32_t kMaxReply = 1 << 20;  // AD tickets with big PACs stay far below this

int MsLeft(const Transport& t) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t.deadline - std::chrono::steady_clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for fd to be ready for events until the given time; false with why on timeout or error.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point until, std::string* why) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      *why = "no answer in time";
      return false;
    }
    struct pollfd p = {fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) {
      *why = std::strerror(errno);
      return false;
    }
  }
}

// Moves len bytes over fd in one direction (send or receive) until the given time; false with why
// on timeout, error or (receiving) the KDC closing the connection.
bool Transfer(int fd, short events, char* data, size_t len, std::chrono::steady_clock::time_point until, std::string* why) {
  while (len > 0) {
    if (!WaitFor(fd, events, until, why)) return false;
    ssize_t n = events == POLLOUT ? send(fd, data, len, MSG_NOSIGNAL) : recv(fd, data, len, 0);
    if (n == 0 && events == POLLIN) {
      *why = "the KDC closed the connection";
      return false;
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      *why = std::strerror(errno);
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool SendAll(int fd, const char* data, size_t len, std::chrono::steady_clock::time_point until, std::string* why) {
  // send() only reads the buffer; Transfer's pointer is not const because recv() writes it.
  return Transfer(fd, POLLOUT, const_cast<char*>(data), len, until, why);
}

bool RecvAll(int fd, char* data, size_t len, std::chrono::steady_clock::time_point until, std::string* why) {
  return Transfer(fd, POLLIN, data, len, until, why);
}

// host, host:port, [v6], [v6]:port, with an optional tcp/ or udp/ of krb5.conf (TCP is used).
void SplitKdc(std::string k, std::string* host, std::string* port) {
  if (k.rfind("tcp/", 0) == 0 || k.rfind("udp/", 0) == 0) k = k.substr(4);
  *port = "88";
  if (!k.empty() && k[0] == '[') {
    size_t close = k.find(']');
    *host = k.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < k.size() && k[close + 1] == ':') *port = k.substr(close + 2);
    return;
  }
  size_t colon = k.find(':');
  if (colon != std::string::npos && k.find(':', colon + 1) == std::string::npos) {
    *host = k.substr(0, colon);
    *port = k.substr(colon + 1);
  } else {
    *host = k;
  }
}

// One request and its reply over TCP (RFC 4120 7.2.2: a 4-byte length, then the message).
bool TcpExchange(const std::string& kdc, const krb5_data* msg, std::chrono::steady_clock::time_point until, std::string* reply, std::string* why) {
  std::string host, port;
  SplitKdc(kdc, &host, &port);
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  struct addrinfo* res = nullptr;
  int g = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (g != 0) {
    *why = std::string("cannot resolve: ") + gai_strerror(g);
    return false;
  }
  bool ok = false;
  for (struct addrinfo* ai = res; ai != nullptr && !ok; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      *why = std::strerror(errno);
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      *why = std::strerror(errno);
      close(fd);
      continue;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (!WaitFor(fd, POLLOUT, until, why) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
      if (soerr != 0) *why = std::strerror(soerr);
      close(fd);
      continue;
    }
    uint32_t len = htonl(static_cast<uint32_t>(msg->length));
    char head[4];
    if (SendAll(fd, reinterpret_cast<const char*>(&len), 4, until, why) && SendAll(fd, msg->data, msg->length, until, why)
        && RecvAll(fd, head, 4, until, why)) {
      uint32_t n;
      std::memcpy(&n, head, 4);
      n = ntohl(n);
      if (n == 0 || n > kMaxReply) {
        *why = "an answer of " + std::to_string(n) + " bytes";
      } else {
        reply->assign(n, '\0');
        ok = RecvAll(fd, &(*reply)[0], n, until, why);
      }
    }
    close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

krb5_error_code KRB5_CALLCONV SendHook(krb5_context ctx, void* data, const krb5_data* realm, const krb5_data* message,
                                       krb5_data**, krb5_data** reply_out) {
  auto* t = static_cast<Transport*>(data);
  // The store's KDCs serve its realm only: a referral to another realm (an enterprise name of
  // another domain of the forest) is not followed.
  if (realm->length != t->realm.size() || std::memcmp(realm->data, t->realm.data(), realm->length) != 0) {
    std::string other(realm->data, realm->length);
    krb5_set_error_message(ctx, KRB5_KDC_UNREACH, "the KDC referred the request to the realm %s, which this store does not serve", other.c_str());
    return KRB5_KDC_UNREACH;
  }
  for (size_t i = 0; i < t->kdcs.size(); i++) {
    if (t->failed[i]) continue;
    size_t left = 0;
    for (size_t j = i; j < t->kdcs.size(); j++) left += t->failed[j] ? 0 : 1;
    int ms = MsLeft(*t);
    if (ms == 0) break;
    // Each KDC still to try gets an equal share of what is left, so a hung first KDC leaves
    // time for the next.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms / static_cast<int>(left));
    std::string reply, why;
    if (TcpExchange(t->kdcs[i], message, until, &reply, &why)) {
      t->answered = t->kdcs[i];
      krb5_data d;
      d.magic = KV5M_DATA;
      d.length = static_cast<unsigned int>(reply.size());
      d.data = &reply[0];
      return krb5_copy_data(ctx, &d, reply_out);
    }
    t->failed[i] = true;
    t->failures.push_back(t->kdcs[i] + ": " + why);
  }
  krb5_set_error_message(ctx, KRB5_KDC_UNREACH, "no KDC answered");
  return KRB5_KDC_UNREACH;
}

// The library looks up the realm's KDCs before it hands a message to SendHook, so the context's
// profile names them: a read-only profile whose answers are the system profile's, except the
// realm's KDC list (the store's, and no primary KDC to retry with, no DNS lookup). A vtable
// profile, because a profile made from files is re-read from those files whenever a context is
// made from it.
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

// The clocks disagree: the KDC said so, or its tickets start or end out of this host's time, or
// (with kdc_timesync = 0 in krb5.conf) the library found the KDC's reply out of clockskew.
bool IsClock(krb5_error_code code) {
  return code == KRB5KRB_AP_ERR_SKEW || code == KRB5KRB_AP_ERR_TKT_NYV || code == KRB5KRB_AP_ERR_TKT_EXPIRED || code == KRB5_KDCREP_SKEW;
}

std::string ClockText(krb5_context ctx, krb5_error_code code, long max_skew) {
  return "the clocks of this host and the KDC differ by more than the allowed skew (" + std::to_string(max_skew)
      + " s; run chrony or timesyncd): " + ErrorText(ctx, code);
}

// Why an exchange failed: the clocks when they are the cause, else the library's message.
std::string FailureText(krb5_context ctx, krb5_error_code code, long max_skew) {
  return IsClock(code) ? ClockText(ctx, code, max_skew) : ErrorText(ctx, code);
}

// krb5.conf's clockskew (libdefaults), MIT's default 300 s when unset or unreadable.
long MaxSkew(krb5_context ctx) {
  profile_t profile = nullptr;
  int v = kDefaultClockSkew;
  if (krb5_get_profile(ctx, &profile) == 0) {
    if (profile_get_integer(profile, "libdefaults", "clockskew", nullptr, kDefaultClockSkew, &v) != 0 || v < 0) v = kDefaultClockSkew;
    profile_release(profile);
  }
  return v;
}

// The KDC's time (a ticket's authtime) against this host's clock before and after the exchange
// that got it: 0 inside that window, else how far outside it (so network time never counts).
// time() is the system clock, which the library's own time offset never touches.
long SkewOf(krb5_timestamp kdc, time_t before, time_t after) {
  // Timestamps are unsigned 32-bit seconds since MIT krb5 1.17 (good until 2106).
  long k = static_cast<long>(static_cast<uint32_t>(kdc));
  if (k < static_cast<long>(before)) return k - static_cast<long>(before);
  if (k > static_cast<long>(after)) return k - static_cast<long>(after);
  return 0;
}

// The skew a ticket shows, for an exchange that began at before and has just ended.
long TicketSkew(const krb5_creds& creds, time_t before) {
  return SkewOf(creds.times.authtime, before, time(nullptr));
}

// A context of this call only: the overlay profile, and its messages go through SendHook.
krb5_error_code MakeContext(const Request& r, Transport* t, krb5_context* out, std::string* why) {
  krb5_context base = nullptr;
  krb5_error_code ret = krb5_init_context(&base);
  if (ret != 0) {
    *why = "cannot read the Kerberos configuration: " + ErrorText(nullptr, ret);
    return ret;
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
  if (ret == 0) krb5_set_kdc_send_hook(*out, SendHook, t);
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

// The probe's prompter: asked for the password only after the KDC answered for the principal
// (with a ticket sealed with the user's key, or "preauthentication required"). It notes that it
// was asked: with pre-authentication the library reports its refusal as "Pre-authentication
// failed", a code that a KDC's refusal also has.
constexpr krb5_error_code kRefused = KRB5_LIBOS_CANTREADPWD;
krb5_error_code RefusingPrompter(krb5_context, void* data, const char*, const char*, int, krb5_prompt[]) {
  *static_cast<bool*>(data) = true;
  return kRefused;
}

// The ticket against the keytab's key for server, with ap_req_nofail: a keytab that is missing,
// unreadable or without that key is a failure, never a pass.
krb5_error_code Validate(krb5_context ctx, krb5_creds* creds, krb5_principal server, krb5_keytab kt) {
  krb5_verify_init_creds_opt o;
  krb5_verify_init_creds_opt_init(&o);
  krb5_verify_init_creds_opt_set_ap_req_nofail(&o, 1);
  return krb5_verify_init_creds(ctx, creds, server, kt, nullptr, &o);
}

Answer Run(const Request& r, const char* password, Transport* t) {
  Answer a;
  krb5_context ctx = nullptr;
  std::string why;
  krb5_error_code ret = MakeContext(r, t, &ctx, &why);
  if (ret != 0) return {"unavailable", ret, why};
  const long max_skew = MaxSkew(ctx);
  time_t before = 0;  // this host's clock when the exchange that got a ticket began
  // Set once a KDC issued a ticket, and reported whatever the answer then is (done:).
  std::optional<long> skew;

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
  if (ret == 0 && !r.self_test) ret = krb5_parse_name_flags(ctx, r.principal.c_str(), flags, &client);
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

  if (r.self_test) {
    // The keytab's own key asks for a ticket as the validating principal: the KDC accepts it
    // only if the key (and its version) is the KDC's; the ticket's time is the KDC's clock.
    ret = krb5_kt_resolve(ctx, ktname.c_str(), &kt);
    if (ret == 0) ret = ServerPrincipal(ctx, kt, r, &server, &why);
    if (ret != 0) {
      a = {"unavailable", ret, why.empty() ? ErrorText(ctx, ret) : why};
      goto done;
    }
    before = time(nullptr);
    ret = krb5_get_init_creds_keytab(ctx, &creds, server, kt, 0, nullptr, opt);
    if (ret != 0) {
      a = {KindOf(ret), ret, FailureText(ctx, ret, max_skew)};
      goto done;
    }
    have_creds = true;
    skew = TicketSkew(creds, before);
    ret = Validate(ctx, &creds, server, kt);
    if (ret != 0) {
      a = {"unavailable", ret, FailureText(ctx, ret, max_skew)};
    } else {
      a = {"ok", 0, "a ticket as the validating principal, validated with the keytab"};
    }
    goto done;
  }

  if (r.probe) {
    // The AS exchange without a password: the KDC says whether it knows the principal and
    // whether it is expired or disabled; when the library then wants the user's key, the
    // prompter refuses, so no key (no guess) is ever sent and this never counts as a failed
    // login in the KDC's lockout.
    bool asked = false;
    ret = krb5_get_init_creds_password(ctx, &creds, client, nullptr, RefusingPrompter, &asked, 0, nullptr, opt);
    if (ret == 0) {
      have_creds = true;
      a = {"unavailable", 0, "a ticket without a password"};
    } else if (asked) {
      a = {"ok", 0, "the KDC knows the principal"};
    } else {
      std::string kind = KindOf(ret);
      a = {kind == "bad_password" ? "unavailable" : kind, ret, FailureText(ctx, ret, max_skew)};
    }
    goto done;
  }

  before = time(nullptr);
  ret = krb5_get_init_creds_password(ctx, &creds, client, password, nullptr, nullptr, 0, nullptr, opt);
  if (ret == KRB5KDC_ERR_KEY_EXP) {
    // The KDC says the key expired before it looks at the password. A ticket for the password
    // changing service is still issued to the right password (pam_krb5 does the same), so it
    // tells a right password from a wrong one. It proves nothing about the KDC, so it can only
    // ever lead to "password expired", never to a success.
    krb5_creds cp;
    std::memset(&cp, 0, sizeof cp);
    before = time(nullptr);
    krb5_error_code r2 = krb5_get_init_creds_password(ctx, &cp, client, password, nullptr, nullptr, 0, "kadmin/changepw", opt);
    if (r2 == 0) {
      a = {"password_expired", ret, ErrorText(ctx, ret)};
      skew = TicketSkew(cp, before);
      krb5_free_cred_contents(ctx, &cp);
    } else {
      a = {KindOf(r2), r2, FailureText(ctx, r2, max_skew)};
    }
    goto done;
  }
  if (ret != 0) {
    a = {KindOf(ret), ret, FailureText(ctx, ret, max_skew)};
    goto done;
  }
  have_creds = true;
  skew = TicketSkew(creds, before);

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
    ret = Validate(ctx, &creds, server, kt);
    if (ret != 0) {
      a = {"unavailable", ret, IsClock(ret) ? ClockText(ctx, ret, max_skew)
                                            : "the ticket did not validate against the keytab (a KDC that is not the realm's, or a keytab that does not match it): " + ErrorText(ctx, ret)};
      goto done;
    }
    a = {"ok", 0, "validated"};
  }

done:
  a.max_skew = max_skew;
  if (skew.has_value()) {
    a.has_skew = true;
    a.skew = *skew;
  }
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
    transport_.realm = req_.realm;
    transport_.kdcs = req_.kdcs;
    transport_.failed.assign(req_.kdcs.size(), false);
    transport_.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req_.budget_ms);
    answer_ = Run(req_, password_.data(), &transport_);
    Wipe();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", answer_.kind);
    o.Set("code", Napi::Number::New(env, static_cast<double>(answer_.code)));
    o.Set("message", answer_.message);
    o.Set("skew", answer_.has_skew ? Napi::Number::New(env, static_cast<double>(answer_.skew)) : env.Null());
    o.Set("maxSkew", Napi::Number::New(env, static_cast<double>(answer_.max_skew)));
    Napi::Array failures = Napi::Array::New(env, transport_.failures.size());
    for (size_t i = 0; i < transport_.failures.size(); i++) failures.Set(static_cast<uint32_t>(i), transport_.failures[i]);
    o.Set("failures", failures);
    o.Set("answered", transport_.answered.empty() ? env.Null() : Napi::String::New(env, transport_.answered));
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
  Transport transport_;
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
  if (r.kdcs.empty()) throw Napi::TypeError::New(o.Env(), "no KDC to ask");
  Napi::Value budget = o.Get("budgetMs");
  if (!budget.IsNumber()) throw Napi::TypeError::New(o.Env(), "budgetMs must be a number");
  r.budget_ms = budget.As<Napi::Number>().Int32Value();
  if (r.budget_ms < 1) r.budget_ms = 1;
  return r;
}

// The check on libuv's pool; the worker deletes itself once its promise is settled.
Napi::Value Queue(Napi::Env env, Request r, const uint8_t* pw, size_t len) {
  auto* w = new CheckWorker(env, std::move(r), pw, len);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
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
  return Queue(env, std::move(r), pw.Data(), pw.Length());
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "probe(request)");
  Request r = ReadRequest(info[0].As<Napi::Object>());
  r.probe = true;
  return Queue(env, std::move(r), nullptr, 0);
}

Napi::Value SelfTest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "selfTest(request)");
  Request r = ReadRequest(info[0].As<Napi::Object>());
  if (r.keytab.empty()) throw Napi::TypeError::New(env, "selfTest needs a keytab");
  r.self_test = true;
  return Queue(env, std::move(r), nullptr, 0);
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

// The KDCs krb5.conf names for a realm, in its order (no DNS lookup: name them in krb5.conf or
// in the store's kdc key).
Napi::Value RealmKdcs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "realmKdcs(realm)");
  std::string realm = info[0].As<Napi::String>().Utf8Value();
  Napi::Array out = Napi::Array::New(env);
  krb5_context ctx = nullptr;
  if (krb5_init_context(&ctx) != 0) return out;
  profile_t profile = nullptr;
  if (krb5_get_profile(ctx, &profile) == 0) {
    const char* names[] = {"realms", realm.c_str(), "kdc", nullptr};
    char** vals = nullptr;
    if (profile_get_values(profile, names, &vals) == 0) {
      for (uint32_t i = 0; vals[i] != nullptr; i++) out.Set(i, vals[i]);
      profile_free_list(vals);
    }
    profile_release(profile);
  }
  krb5_free_context(ctx);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("realmKdcs", Napi::Function::New(env, RealmKdcs));
  exports.Set("check", Napi::Function::New(env, Check));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("selfTest", Napi::Function::New(env, SelfTest));
  exports.Set("defaultRealm", Napi::Function::New(env, DefaultRealm));
  return exports;
}

}  // namespace

NODE_API_MODULE(krb5_check, Init)
