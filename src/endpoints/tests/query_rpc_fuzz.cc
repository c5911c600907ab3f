// Method 22's bytes from another datacenter's server: neither decoder may crash; a request or
// reply that decodes encodes and decodes back to the same content.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "endpoints/query_rpc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto req = pc::endpoints::decode_query_request(bytes)) {
    auto again = pc::endpoints::decode_query_request(
        pc::endpoints::encode_query_request(req->query, req->limit, req->secret));
    PC_ASSERT(again && again->query == req->query && again->limit == req->limit &&
                  again->secret == req->secret,
              "a query request does not survive encode and decode");
  }
  if (auto reply = pc::endpoints::decode_query_reply(bytes)) {
    auto again = pc::endpoints::decode_query_reply(pc::endpoints::encode_query_reply(*reply));
    PC_ASSERT(again && again->nodes.size() == reply->nodes.size() &&
                  again->datacenter == reply->datacenter && again->service == reply->service,
              "a query reply does not survive encode and decode");
  }
  return 0;
}
