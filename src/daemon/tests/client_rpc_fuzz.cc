// What client agents and servers send each other (daemon/client_rpc.h), from the network:
// the first byte picks the decoder, the rest is its input. Decoding never crashes, and what
// it accepts re-encodes and decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "daemon/client_rpc.h"

namespace {

using namespace pc::daemon;

void http_request(std::string_view in) {
  auto r = decode_http_request(in);
  if (!r) return;
  auto again = decode_http_request(encode_http_request(*r));
  PC_ASSERT(again.has_value() && again->method == r->method && again->path == r->path &&
                again->query == r->query && again->headers == r->headers && again->body == r->body,
            "a forwarded request does not round-trip");
}

void http_response(std::string_view in) {
  auto r = decode_http_response(in);
  if (!r) return;
  auto again = decode_http_response(encode_http_response(*r));
  PC_ASSERT(again.has_value() && again->status == r->status && again->body == r->body &&
                again->headers == r->headers,
            "a forwarded response does not round-trip");
}

void node_rows(std::string_view in) {
  auto rows = decode_node_rows(in);
  if (!rows) return;
  auto again = decode_node_rows(encode_node_rows(*rows));
  PC_ASSERT(again.has_value() && again->node == rows->node && again->services == rows->services &&
                again->checks == rows->checks,
            "node rows do not round-trip");
}

void dns_query(std::string_view in) {
  auto q = decode_dns_query(in);
  if (!q) return;
  const pc::dns::ResolverConfig* options = q->options ? &*q->options : nullptr;
  auto again = decode_dns_query(encode_dns_query(q->bytes, q->tcp, q->token, options));
  PC_ASSERT(again.has_value() && again->tcp == q->tcp && again->token == q->token &&
                again->options == q->options && again->bytes == q->bytes,
            "a forwarded DNS query does not round-trip");
}

void acl_resolve_reply(std::string_view in) {
  auto r = decode_acl_resolve_reply(in);
  if (!r) return;
  auto again = decode_acl_resolve_reply(encode_acl_resolve_reply(*r));
  PC_ASSERT(again.has_value() && *again == *r, "an ACL resolve reply does not round-trip");
}

void client_apply(std::string_view in) {
  auto w = decode_client_apply(in);
  if (!w) return;
  (void)check_client_command(w->command, 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
    case 0: http_request(in); break;
    case 1: http_response(in); break;
    case 2: node_rows(in); break;
    case 3: (void)decode_node_rows_request(in); break;
    case 4: dns_query(in); break;
    case 5: (void)check_client_command(in, 1); break;
    case 6: acl_resolve_reply(in); break;
    case 7: client_apply(in); break;
    default: (void)decode_acl_resolve_request(in); break;
  }
  return 0;
}
