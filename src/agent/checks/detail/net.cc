#include "agent/checks/detail/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/checks/probe.h"

namespace pc::agent::detail {
namespace {

using core::Code;
using core::make_error;

// Go's dialSerial gives each address an equal share of the time left, but never less than
// this (or all of it, if less remains).
constexpr std::chrono::seconds kDialShareMin{2};

std::atomic<std::size_t> g_lookups_in_flight{0};

core::Error address_error(std::string_view address, std::string_view why) {
  return make_error(Code::kInvalidArgument,
                    "address " + std::string(address) + ": " + std::string(why));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<SockAddr> to_addrs(const addrinfo* list) {
  std::vector<SockAddr> addrs;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SockAddr addr;
    std::memcpy(&addr.storage, ai->ai_addr, ai->ai_addrlen);
    addr.size = ai->ai_addrlen;
    addrs.push_back(addr);
  }
  return addrs;
}

addrinfo lookup_hints(int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = flags;
  return hints;
}

// Go's wording for a failed lookup ("lookup db.internal: no such host").
core::Error lookup_error(const HostPort& hp, int rc, int sys_errno) {
  switch (rc) {
    case EAI_NONAME:
    case EAI_NODATA: return make_error(Code::kNotFound, "lookup " + hp.host + ": no such host");
    case EAI_SERVICE:
      return make_error(Code::kNotFound, "lookup tcp/" + hp.port + ": unknown port");
    case EAI_SYSTEM:
      return make_error(Code::kNotFound, "lookup " + hp.host + ": " + errno_text(sys_errno));
    default: {
      std::string text = gai_strerror(rc);
      if (!text.empty()) text[0] = static_cast<char>(std::tolower(text[0]));
      return make_error(Code::kNotFound, "lookup " + hp.host + ": " + text);
    }
  }
}

// Shared between a probe and the helper thread running its getaddrinfo; whichever of the two
// finishes last frees it.
struct LookupState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  int sys_errno = 0;
  std::vector<SockAddr> addrs;
};

void run_lookup(const std::shared_ptr<LookupState>& state, const HostPort& hp) {
  addrinfo hints = lookup_hints(0);
  addrinfo* list = nullptr;
  int rc = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &list);
  int sys_errno = errno;
  std::vector<SockAddr> addrs;
  try {
    if (rc == 0) addrs = to_addrs(list);
  } catch (...) {
    rc = EAI_MEMORY;
  }
  if (list != nullptr) freeaddrinfo(list);
  {
    std::lock_guard lock(state->mu);
    state->rc = rc;
    state->sys_errno = sys_errno;
    state->addrs = std::move(addrs);
    state->done = true;
  }
  state->cv.notify_all();
}

core::Result<std::vector<SockAddr>> lookup_on_helper(const HostPort& hp, core::MonoTime deadline) {
  if (g_lookups_in_flight.fetch_add(1) >= probe_lookups_in_flight_max) {
    g_lookups_in_flight.fetch_sub(1);
    return make_error(Code::kUnavailable,
                      "lookup " + hp.host + ": too many DNS lookups still running");
  }
  auto state = std::make_shared<LookupState>();
  try {
    std::thread([state, hp] {
      run_lookup(state, hp);
      g_lookups_in_flight.fetch_sub(1);
    }).detach();
  } catch (...) {
    g_lookups_in_flight.fetch_sub(1);
    return make_error(Code::kUnavailable, "lookup " + hp.host + ": cannot start a lookup");
  }
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return make_error(Code::kTimeout, "lookup " + hp.host + ": i/o timeout");
  }
  if (state->rc != 0) return lookup_error(hp, state->rc, state->sys_errno);
  return std::move(state->addrs);
}

// IP literals (and the empty host, which Go dials as the local system) resolve at once with
// no DNS; anything else goes to the helper thread.
core::Result<std::vector<SockAddr>> lookup(HostPort hp, core::MonoTime deadline) {
  if (hp.port.empty()) hp.port = "0";
  bool numeric_port = all_digits(hp.port);
  if (numeric_port && (hp.port.size() > 5 || std::stoul(hp.port) > 65535)) {
    return address_error(hp.port, "invalid port");
  }
  addrinfo hints = lookup_hints(AI_NUMERICHOST | (numeric_port ? AI_NUMERICSERV : 0));
  addrinfo* list = nullptr;
  const char* node = hp.host.empty() ? nullptr : hp.host.c_str();
  int rc = getaddrinfo(node, hp.port.c_str(), &hints, &list);
  if (rc == 0) {
    std::vector<SockAddr> addrs;
    try {
      addrs = to_addrs(list);
    } catch (...) {
      freeaddrinfo(list);
      throw;
    }
    freeaddrinfo(list);
    return addrs;
  }
  if (rc != EAI_NONAME || node == nullptr) return lookup_error(hp, rc, errno);
  return lookup_on_helper(hp, deadline);
}

core::MonoTime partial_deadline(core::MonoTime deadline, std::size_t addrs_remaining) {
  auto now = std::chrono::steady_clock::now();
  auto remaining = deadline - now;
  if (remaining <= core::Duration::zero() || addrs_remaining == 0) return deadline;
  auto share = remaining / static_cast<long>(addrs_remaining);
  if (share < kDialShareMin) share = std::min<core::Duration>(remaining, kDialShareMin);
  return now + share;
}

core::Error dial_error(const SockAddr& addr, Code code, std::string_view what) {
  return make_error(code, "dial tcp " + format_sockaddr(addr) + ": " + std::string(what));
}

core::Result<UniqueFd> connect_one(const SockAddr& addr, core::MonoTime deadline) {
  UniqueFd fd(
      ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd.valid()) return dial_error(addr, Code::kUnavailable, "socket: " + errno_text(errno));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr.storage), addr.size) == 0) {
    return fd;
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    return dial_error(addr, Code::kUnavailable, "connect: " + errno_text(errno));
  }
  for (;;) {
    int wait_ms = poll_timeout_ms(deadline);
    if (wait_ms == 0) return dial_error(addr, Code::kTimeout, "i/o timeout");
    pollfd pfd{fd.get(), POLLOUT, 0};
    int n = ::poll(&pfd, 1, wait_ms);
    if (n < 0 && errno != EINTR) {
      return dial_error(addr, Code::kUnavailable, "poll: " + errno_text(errno));
    }
    if (n > 0) break;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) return dial_error(addr, Code::kUnavailable, "connect: " + errno_text(err));
  return fd;
}

}  // namespace

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

core::Result<HostPort> split_host_port(std::string_view address) {
  constexpr std::string_view kMissingPort = "missing port in address";
  constexpr std::string_view kTooManyColons = "too many colons in address";
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return address_error(address, kMissingPort);
  HostPort hp;
  std::size_t j = 0;
  std::size_t k = 0;
  if (address.front() == '[') {
    auto end = address.find(']');
    if (end == std::string_view::npos) return address_error(address, "missing ']' in address");
    if (end + 1 == address.size()) return address_error(address, kMissingPort);
    if (end + 1 != colon) {
      return address_error(address, address[end + 1] == ':' ? kTooManyColons : kMissingPort);
    }
    hp.host = std::string(address.substr(1, end - 1));
    j = 1;
    k = end + 1;
  } else {
    hp.host = std::string(address.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return address_error(address, kTooManyColons);
  }
  if (address.substr(j).find('[') != std::string_view::npos) {
    return address_error(address, "unexpected '[' in address");
  }
  if (address.substr(k).find(']') != std::string_view::npos) {
    return address_error(address, "unexpected ']' in address");
  }
  hp.port = std::string(address.substr(colon + 1));
  return hp;
}

std::string join_host_port(std::string_view host, std::string_view port) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::string(port);
  }
  return std::string(host) + ":" + std::string(port);
}

std::string errno_text(int err) {
  char buf[256];
  std::string text = ::strerror_r(err, buf, sizeof(buf));  // the GNU form returns the text
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(text[0]));
  return text;
}

int poll_timeout_ms(core::MonoTime deadline) {
  auto remaining = deadline - std::chrono::steady_clock::now();
  if (remaining <= core::Duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
  return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

std::string format_sockaddr(const SockAddr& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.storage.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr.storage);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr.storage);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
  std::string host = text;
  if (in6->sin6_scope_id != 0) {
    char name[IF_NAMESIZE] = {};
    bool named = ::if_indextoname(in6->sin6_scope_id, name) != nullptr;
    host += "%" + (named ? std::string(name) : std::to_string(in6->sin6_scope_id));
  }
  return join_host_port(host, std::to_string(ntohs(in6->sin6_port)));
}

core::Result<UniqueFd> dial_tcp(std::string_view address, core::MonoTime deadline) {
  auto hp = split_host_port(address);
  if (!hp) return hp.error().with_context("dial tcp");
  auto addrs = lookup(*hp, deadline);
  if (!addrs) return addrs.error().with_context("dial tcp");
  if (addrs->empty()) {
    return make_error(Code::kNotFound, "dial tcp: lookup " + hp->host + ": no such host");
  }
  std::optional<core::Error> first;
  for (std::size_t i = 0; i < addrs->size(); ++i) {
    auto fd = connect_one((*addrs)[i], partial_deadline(deadline, addrs->size() - i));
    if (fd) return fd;
    if (!first) first = fd.error();
  }
  return *first;
}

}  // namespace pc::agent::detail
