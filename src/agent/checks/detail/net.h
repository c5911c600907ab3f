#pragma once
// Private to agent/checks: TCP dialing with a hard deadline, worded like Go's net package so
// check outputs read as Consul's do ("dial tcp 127.0.0.1:80: connect: connection refused").
//
// Thread-safe. A host that is not an IP literal is looked up by getaddrinfo on a short-lived
// helper thread, so a stalled DNS server cannot hold the caller past its deadline; the helper
// finishes on its own afterwards, and at most probe_lookups_in_flight_max of them exist.
// Every descriptor is created close-on-exec, so a script probe spawned on another thread
// never inherits a probe's socket.
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pc::agent::detail {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

struct HostPort {
  std::string host;  // without brackets
  std::string port;
};

// Go's net.SplitHostPort: "host:port", "[v6]:port". Errors read "address x: missing port in
// address" and the like.
core::Result<HostPort> split_host_port(std::string_view address);
// The inverse: brackets around hosts that contain ':'.
std::string join_host_port(std::string_view host, std::string_view port);

// Go's texts for system errors: strerror with a lower-case first letter.
std::string errno_text(int err);

// Milliseconds for poll() until deadline, rounded up so a wait never ends just short of it.
int poll_timeout_ms(core::MonoTime deadline);

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t size = 0;
};
// "127.0.0.1:80", "[::1]:80".
std::string format_sockaddr(const SockAddr& addr);

// Go's Dial("tcp", address) with a deadline: looks the host up, then tries each address in
// turn (Go's dialSerial share of the remaining time), and returns a connected, non-blocking,
// close-on-exec socket or the first error, as Go does. Codes: kInvalidArgument for a bad
// address, kNotFound for a failed lookup, kTimeout at the deadline, kUnavailable otherwise.
core::Result<UniqueFd> dial_tcp(std::string_view address, core::MonoTime deadline);

}  // namespace pc::agent::detail
