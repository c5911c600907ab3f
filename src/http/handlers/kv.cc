// /v1/kv/:key — Consul's KVS endpoint: GET (?recurse, ?keys, ?separator, ?raw), PUT (?flags,
// ?cas, ?acquire, ?release), DELETE (?recurse, ?cas).
#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/limits.h"
#include "endpoints/acl_filter.h"
#include "endpoints/kv.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/query.h"
#include "proto/commands.pb.h"

namespace pc::http::handlers {
namespace {

constexpr std::string_view kPrefix = "/v1/kv/";

// Go's strconv.ParseUint error text: Consul returns it as a 500 for bad ?flags / ?cas.
core::Result<std::uint64_t> parse_uint_param(const std::string& text) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != text.data() + text.size()) {
    return core::make_error(core::Code::kInternal,
                            "strconv.ParseUint: parsing \"" + text + "\": invalid syntax");
  }
  if (ec == std::errc::result_out_of_range) {
    return core::make_error(core::Code::kInternal,
                            "strconv.ParseUint: parsing \"" + text + "\": value out of range");
  }
  return value;
}

// Go's url.QueryEscape: unreserved bytes as they are, space as '+', the rest as %XX.
std::string query_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Go's url.Values.Encode, which Consul's message quotes: sorted by key, re-encoded.
std::string encode_query(const Request& req) {
  std::vector<std::pair<std::string, std::string>> params = req.query;
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += query_escape(k) + "=" + query_escape(v);
  }
  return out;
}

// Consul refuses flags that do not compose (?cas with ?acquire, ?recurse with ?cas).
bool conflicting(const Request& req, std::initializer_list<std::string_view> names, Reply& reply) {
  int found = 0;
  for (auto name : names) found += req.has_query(name) ? 1 : 0;
  if (found < 2) return false;
  reply(Response::text(400, "Conflicting flags: " + encode_query(req) + "\n"));
  return true;
}

using endpoints::ResolvedToken;

void kv_get(endpoints::Context& ctx, const Request& req, std::string key, Reply& reply,
            const ResolvedToken& who) {
  bool recurse = query_flag(req, "recurse");
  bool raw = query_flag(req, "raw");
  if (!recurse && key.empty()) {
    reply(Response::text(400, "Missing key name"));
    return;
  }
  if (!recurse) {
    if (auto st = endpoints::check_key_read(who, key); !st) {
      return reply(acl_error_response(st.error()));
    }
  }
  reply_blocking(req, reply, [&ctx, key, recurse, raw, who](state::WatchSet& ws) {
    endpoints::KvEntries read =
        recurse ? endpoints::kv_list(ctx, ws, key) : endpoints::kv_get(ctx, ws, key);
    ReadOutcome out;
    out.index = read.index;
    const bool filtered = endpoints::filter_kv_entries(who, read.entries);
    if (read.entries.empty()) {
      out.response = Response::text(404, "");
      if (filtered) out.response.headers.emplace_back(kResultsFilteredHeader, "true");
      return out;
    }
    if (raw && !recurse) {
      Response r;
      r.content_type = "text/plain";
      r.headers.emplace_back("X-Content-Type-Options", "nosniff");
      r.headers.emplace_back("Content-Security-Policy", "sandbox");
      r.body = std::move(read.entries.front().value);
      out.response = std::move(r);
      return out;
    }
    JsonWriter w;
    w.begin_array();
    for (const auto& e : read.entries) write_dir_entry(w, e, true);
    w.end_array();
    out.response = Response::json(w.take());
    if (filtered) out.response.headers.emplace_back(kResultsFilteredHeader, "true");
    return out;
  });
}

void kv_keys(endpoints::Context& ctx, const Request& req, std::string prefix, Reply& reply,
             const ResolvedToken& who) {
  // Consul accepts its historic misspelling too; the correct spelling wins.
  std::string separator;
  if (const auto* s = req.query_param("seperator")) separator = *s;
  if (const auto* s = req.query_param("separator")) separator = *s;
  reply_blocking(req, reply, [&ctx, prefix, separator, who](state::WatchSet& ws) {
    endpoints::KvKeys read = endpoints::kv_keys(ctx, ws, prefix, separator);
    ReadOutcome out;
    out.index = read.index;
    const bool filtered = endpoints::filter_kv_keys(who, read.keys);
    if (read.keys.empty() && !prefix.empty()) {
      out.response = Response::text(404, "");
    } else {
      JsonWriter w;
      w.begin_array();
      for (const auto& k : read.keys) w.string(k);
      w.end_array();
      out.response = Response::json(w.take());
    }
    if (filtered) out.response.headers.emplace_back(kResultsFilteredHeader, "true");
    return out;
  });
}

void kv_put(endpoints::Context& ctx, const Request& req, std::string key, Reply& reply,
            const ResolvedToken& who) {
  if (key.empty()) {
    reply(Response::text(400, "Missing key name"));
    return;
  }
  if (conflicting(req, {"cas", "acquire", "release"}, reply)) return;
  proto::KvOp op;
  op.set_verb(proto::KvOp::SET);
  op.set_key(std::move(key));
  if (const auto* flags = req.query_param("flags")) {
    auto v = parse_uint_param(*flags);
    if (!v) return reply(error_response(v.error()));
    op.set_flags(*v);
  }
  if (const auto* cas = req.query_param("cas")) {
    auto v = parse_uint_param(*cas);
    if (!v) return reply(error_response(v.error()));
    op.set_index(*v);
    op.set_verb(proto::KvOp::CAS);
  }
  if (const auto* acquire = req.query_param("acquire")) {
    op.set_session(*acquire);
    op.set_verb(proto::KvOp::LOCK);
  }
  if (const auto* release = req.query_param("release")) {
    op.set_session(*release);
    op.set_verb(proto::KvOp::UNLOCK);
  }
  if (req.body.size() > core::limits::kv_value_size_max) {
    reply(Response::text(413, "Request body(" + std::to_string(req.body.size()) +
                                  " bytes) too large, max size: " +
                                  std::to_string(core::limits::kv_value_size_max) + " bytes."));
    return;
  }
  op.set_value(req.body);
  if (auto st = endpoints::check_kv_op(who, op); !st) return reply(acl_error_response(st.error()));
  bool plain_set = op.verb() == proto::KvOp::SET;
  endpoints::kv_apply(ctx, op, [reply = std::move(reply), plain_set](core::Result<bool> r) {
    if (!r) return reply(rpc_error_response(r.error()));
    // Consul answers a plain set with true whatever apply said.
    reply(bool_response(plain_set ? true : *r));
  });
}

void kv_delete(endpoints::Context& ctx, const Request& req, std::string key, Reply& reply,
               const ResolvedToken& who) {
  if (conflicting(req, {"recurse", "cas"}, reply)) return;
  proto::KvOp op;
  op.set_verb(proto::KvOp::DELETE);
  op.set_key(std::move(key));
  if (query_flag(req, "recurse")) {
    op.set_verb(proto::KvOp::DELETE_TREE);
  } else if (op.key().empty()) {
    reply(Response::text(400, "Missing key name"));
    return;
  }
  if (const auto* cas = req.query_param("cas")) {
    auto v = parse_uint_param(*cas);
    if (!v) return reply(error_response(v.error()));
    op.set_index(*v);
    op.set_verb(proto::KvOp::DELETE_CAS);
  }
  if (auto st = endpoints::check_kv_op(who, op); !st) return reply(acl_error_response(st.error()));
  bool is_cas = op.verb() == proto::KvOp::DELETE_CAS;
  endpoints::kv_apply(ctx, op, [reply = std::move(reply), is_cas](core::Result<bool> r) {
    if (!r) return reply(rpc_error_response(r.error()));
    reply(bool_response(is_cas ? *r : true));
  });
}

}  // namespace

void kv(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string key(path_suffix(req, kPrefix));
  if (key.size() > core::limits::kv_key_size_max) {
    reply(Response::text(400, "Key too long: " + std::to_string(key.size()) + " > " +
                                  std::to_string(core::limits::kv_key_size_max) + " bytes"));
    return;
  }
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  if (req.method == "GET") {
    if (req.has_query("keys")) return kv_keys(ctx, req, std::move(key), reply, *who);
    return kv_get(ctx, req, std::move(key), reply, *who);
  }
  if (req.method == "PUT") return kv_put(ctx, req, std::move(key), reply, *who);
  if (req.method == "DELETE") return kv_delete(ctx, req, std::move(key), reply, *who);
  reply(Response::text(405, "method " + req.method + " not allowed"));
}

}  // namespace pc::http::handlers
