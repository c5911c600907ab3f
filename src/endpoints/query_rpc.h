#pragma once
// The bytes of server RPC method 22 (proto/query.proto): a query spec run in another
// datacenter, and what it found there. The decoders read bytes from another server, so they
// never assert (fuzzed by tests/query_rpc_fuzz.cc): bytes that do not parse, or rows without
// the fields every row has, are InvalidArgument.
#include <string>
#include <string_view>

#include "core/result.h"
#include "endpoints/query.h"

namespace pc::endpoints {

struct QueryRemoteRequest {
  state::PreparedQuery query;
  int limit = 0;
  std::string secret;
};

std::string encode_query_request(const state::PreparedQuery& query, int limit,
                                 const std::string& secret);
core::Result<QueryRemoteRequest> decode_query_request(std::string_view bytes);

// Failovers is the caller's to count, so the reply carries none.
std::string encode_query_reply(const QueryResult& result);
core::Result<QueryResult> decode_query_reply(std::string_view bytes);

}  // namespace pc::endpoints
