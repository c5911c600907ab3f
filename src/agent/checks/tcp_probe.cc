// The TCP probe: Consul's CheckTCP.check() for one run. A connection that completes within
// the timeout is passing and is closed at once; nothing is sent.
#include <exception>

#include "agent/checks/detail/net.h"
#include "agent/checks/detail/output.h"
#include "agent/checks/probe.h"

namespace pc::agent {

ProbeResult probe_tcp(std::string_view host_port, core::Duration timeout) {
  try {
    auto deadline = std::chrono::steady_clock::now() +
                    detail::effective_timeout(timeout, probe_tcp_timeout_default);
    auto fd = detail::dial_tcp(host_port, deadline);
    if (!fd) return detail::probe_result(kProbeCritical, fd.error().message);
    return detail::probe_result(kProbePassing,
                                "TCP connect " + std::string(host_port) + ": Success");
  } catch (const std::exception& e) {
    return detail::probe_result(kProbeCritical, std::string("TCP check failed: ") + e.what());
  } catch (...) {
    return detail::probe_result(kProbeCritical, "TCP check failed: unknown error");
  }
}

}  // namespace pc::agent
