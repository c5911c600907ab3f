#include "endpoints/query_rpc.h"

#include "proto/query.pb.h"
#include "state/query_proto.h"
#include "state/row_proto.h"

namespace pc::endpoints {
namespace {

core::Error bad(std::string what) {
  return core::make_error(core::Code::kInvalidArgument, "prepared query rpc: " + std::move(what));
}

}  // namespace

std::string encode_query_request(const state::PreparedQuery& query, int limit,
                                 const std::string& secret) {
  proto::QueryExecuteRemoteRequest m;
  state::to_proto(query, m.mutable_query());
  m.set_limit(limit);
  m.set_token(secret);
  return m.SerializeAsString();
}

core::Result<QueryRemoteRequest> decode_query_request(std::string_view bytes) {
  proto::QueryExecuteRemoteRequest m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("request does not parse");
  }
  if (m.query().service().service().empty()) return bad("request names no service");
  if (m.limit() < 0) return bad("negative limit");
  QueryRemoteRequest out;
  out.query = state::from_proto(m.query());
  out.limit = m.limit();
  out.secret = m.token();
  return out;
}

std::string encode_query_reply(const QueryResult& result) {
  proto::QueryExecuteRemoteReply m;
  m.set_service(result.service);
  for (const auto& csn : result.nodes) {
    auto* n = m.add_nodes();
    state::fill(*n->mutable_node(), csn.node);
    state::fill(*n->mutable_service(), csn.service);
    for (const auto& c : csn.checks) state::fill(*n->add_checks(), c);
  }
  m.set_dns_ttl(result.dns_ttl);
  m.set_datacenter(result.datacenter);
  m.set_index(result.index);
  m.set_filtered(result.filtered);
  return m.SerializeAsString();
}

core::Result<QueryResult> decode_query_reply(std::string_view bytes) {
  proto::QueryExecuteRemoteReply m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("reply does not parse");
  }
  if (m.datacenter().empty()) return bad("reply names no datacenter");
  QueryResult out;
  out.service = m.service();
  out.dns_ttl = m.dns_ttl();
  out.datacenter = m.datacenter();
  out.index = m.index();
  out.filtered = m.filtered();
  out.nodes.reserve(static_cast<std::size_t>(m.nodes_size()));
  for (auto& n : *m.mutable_nodes()) {
    if (!n.has_node() || !n.has_service()) return bad("instance without node or service");
    CheckServiceNode csn{
        state::row_from(*n.mutable_node()), state::row_from(*n.mutable_service()), {}};
    if (csn.node.node.empty()) return bad("instance on a node without a name");
    for (auto& c : *n.mutable_checks()) csn.checks.push_back(state::row_from(c));
    out.nodes.push_back(std::move(csn));
  }
  return out;
}

}  // namespace pc::endpoints
