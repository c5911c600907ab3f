// Fuzz target: the bytes a gRPC server sends back to the health probe. The call is started
// (preface, settings and request taken), then the input is fed in two pieces split at its
// first byte's value, as a connection delivers bytes in arbitrary chunks. The message
// decoder is also run on the input directly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/checks/detail/grpc_health.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)pc::agent::detail::decode_health_response(in);
  pc::agent::detail::GrpcHealthCall call("127.0.0.1:1", "http", "svc");
  (void)call.take_output();
  std::size_t split = in.empty() ? 0 : static_cast<std::uint8_t>(in[0]) % (in.size() + 1);
  call.feed(in.substr(0, split));
  (void)call.take_output();
  call.feed(in.substr(split));
  (void)call.take_output();
  call.connection_closed("EOF");
  // Every call ends with a serving status or an error text once the connection is gone.
  if (!call.done()) __builtin_trap();
  if (!call.outcome().serving_status && call.outcome().error.empty()) __builtin_trap();
  return 0;
}
