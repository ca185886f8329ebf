// The worker's small view of the kernel, kept apart from the libpam client so the worker never
// loads libpam:
//   peerCredentials(fd) -> { pid, uid, gid, groups }   SO_PEERCRED and SO_PEERGROUPS
//   setNonDumpable()                                   prctl(PR_SET_DUMPABLE, 0)
// Both are synchronous and cheap; neither keeps any state.

#include <napi.h>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59  // Linux 4.13; older libc headers lack the name
#endif

namespace {

// The kernel's own bound on supplementary groups (NGROUPS_MAX in linux/limits.h).
constexpr size_t kMaxGroups = 65536;

Napi::Error ErrnoError(Napi::Env env, const std::string& what, int e) {
  Napi::Error err = Napi::Error::New(env, what + ": " + std::strerror(e));
  err.Set("errno", Napi::Number::New(env, e));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* n = strerrorname_np(e)) err.Set("code", n);
#endif
  return err;
}

int FdArgument(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "peerCredentials: fd must be a number");
  }
  double d = info[0].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || static_cast<double>(static_cast<int>(d)) != d) {
    throw Napi::TypeError::New(env, "peerCredentials: fd must be a non-negative integer");
  }
  return static_cast<int>(d);
}

// The peer's supplementary groups as the kernel recorded them at connect(): no /proc reading,
// so it works when /proc hides other users' processes (ProtectProc=invisible).
std::vector<gid_t> PeerGroups(Napi::Env env, int fd) {
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 2; attempt++) {
    socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) == 0) {
      groups.resize(len / sizeof(gid_t));
      return groups;
    }
    // ERANGE: len now says how much is needed; grow once, within the kernel's bound.
    if (errno != ERANGE || len / sizeof(gid_t) > kMaxGroups || attempt == 1) break;
    groups.resize(len / sizeof(gid_t) + 1);
  }
  throw ErrnoError(env, "peerCredentials: getsockopt(SO_PEERGROUPS) failed", errno);
}

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArgument(info);
  struct ucred cred;
  std::memset(&cred, 0, sizeof cred);
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    throw ErrnoError(env, "peerCredentials: getsockopt(SO_PEERCRED) failed", errno);
  }
  if (len != sizeof cred) {
    throw Napi::Error::New(env, "peerCredentials: getsockopt(SO_PEERCRED) returned a short struct");
  }
  std::vector<gid_t> groups = PeerGroups(env, fd);
  Napi::Array g = Napi::Array::New(env, groups.size());
  for (uint32_t i = 0; i < groups.size(); i++) g.Set(i, Napi::Number::New(env, static_cast<double>(groups[i])));
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, static_cast<double>(cred.pid)));
  o.Set("uid", Napi::Number::New(env, static_cast<double>(cred.uid)));
  o.Set("gid", Napi::Number::New(env, static_cast<double>(cred.gid)));
  o.Set("groups", g);
  return o;
}

// No core file, no ptrace by the same uid, /proc/PID/{mem,environ,...} root's: the worker's
// heap holds passwords and store secrets.
Napi::Value SetNonDumpable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    throw ErrnoError(env, "setNonDumpable: prctl(PR_SET_DUMPABLE) failed", errno);
  }
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("setNonDumpable", Napi::Function::New(env, SetNonDumpable, "setNonDumpable"));
  return exports;
}

}  // namespace

NODE_API_MODULE(peer_credentials, Init)
