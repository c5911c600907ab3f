// /v1/acl/* — Consul's ACL HTTP API (agent/acl_endpoint.go): bootstrap, tokens, policies,
// roles. Every route answers 401 "ACL support disabled" while ACLs are off.
#include <boost/json.hpp>

#include "endpoints/acl.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/acl_json.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"

namespace pc::http::handlers {
namespace {

using endpoints::AclRead;
using endpoints::ResolvedToken;

// Resolves the request's token after checking that ACLs are on (Consul's checkACLDisabled
// comes first, so a request with a bad token to a disabled agent still hears 401).
std::optional<ResolvedToken> acl_caller(endpoints::Context& ctx, const Request& req, Reply& reply) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) {
    reply(acl_error_response(endpoints::acl_disabled()));
    return std::nullopt;
  }
  return authorize(ctx, req, reply);
}

// The JSON object of a request body; on error replies 400 "<context>: <why>".
const boost::json::object* body_of(const Request& req, boost::json::value& holder,
                                   std::string_view context, Reply& reply) {
  auto parsed = parse_json_body(req.body.empty() ? std::string_view("{}") : req.body, context);
  if (!parsed) {
    reply(bad_request(parsed.error().message));
    return nullptr;
  }
  holder = std::move(*parsed);
  auto obj = body_object(holder, context);
  if (!obj) {
    reply(bad_request(obj.error().message));
    return nullptr;
  }
  return *obj;
}

template <class T, class Write>
endpoints::Done<T> reply_with(Reply reply, Write write) {
  return [reply = std::move(reply), write](core::Result<T> r) {
    if (!r) return reply(acl_error_response(r.error()));
    JsonWriter w;
    write(w, *r);
    reply(Response::json(w.take()));
  };
}

endpoints::Done<bool> reply_bool(Reply reply) {
  return [reply = std::move(reply)](core::Result<bool> r) {
    if (!r) return reply(acl_error_response(r.error()));
    reply(bool_response(*r));
  };
}

// A blocking read of one ACL endpoint: `read(ws)` returns Result<AclRead<T>>.
template <class Read, class Write>
void reply_read(const Request& req, Reply& reply, Read read, Write write) {
  reply_blocking(req, reply, [read, write](state::WatchSet& ws) {
    ReadOutcome out;
    auto r = read(ws);
    if (!r) {
      out.response = acl_error_response(r.error());
      return out;
    }
    out.index = r->index;
    JsonWriter w;
    write(w, r->value);
    out.response = Response::json(w.take());
    return out;
  });
}

void write_token_full(JsonWriter& w, const acl::Token& t) {
  write_token(w, t);
}
void write_policy_full(JsonWriter& w, const acl::Policy& p) {
  write_policy(w, p);
}

constexpr std::string_view kTokenDecode = "Token decoding failed";
constexpr std::string_view kPolicyDecode = "Policy decoding failed";
constexpr std::string_view kRoleDecode = "Role decoding failed";

}  // namespace

void acl_bootstrap(endpoints::Context& ctx, const Request& req, Reply reply) {
  (void)req;
  if (ctx.acl == nullptr || !ctx.acl->enabled()) {
    return reply(acl_error_response(endpoints::acl_disabled()));
  }
  endpoints::acl_bootstrap(ctx, [reply = std::move(reply)](core::Result<acl::Token> r) {
    if (!r) {
      // Consul wraps the refusal in its PermissionDeniedError.
      if (r.error().code == core::Code::kPermissionDenied) {
        return reply(Response::text(403, "Permission denied: " + r.error().message));
      }
      return reply(acl_error_response(r.error()));
    }
    // Consul's aclBootstrapResponse: the token plus its secret again as "ID".
    JsonWriter w;
    write_token(w, *r);
    std::string body = w.take();
    body.insert(1, "\"ID\":\"" + r->secret_id + "\",");
    reply(Response::json(std::move(body)));
  });
}

void acl_token_create(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  boost::json::value holder;
  const auto* body = body_of(req, holder, kTokenDecode, reply);
  if (body == nullptr) return;
  auto token = read_token(*body, kTokenDecode);
  if (!token) return reply(bad_request(token.error().message));
  endpoints::acl_token_create(ctx, *who, std::move(*token),
                              reply_with<acl::Token>(std::move(reply), write_token_full));
}

void acl_token(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  std::string id(path_suffix(req, "/v1/acl/token/"));
  if (req.method == "PUT" && id.ends_with("/clone")) {
    id.resize(id.size() - 6);
    boost::json::value holder;
    const auto* body = body_of(req, holder, kTokenDecode, reply);
    if (body == nullptr) return;
    auto description = get_string(*body, "Description", kTokenDecode);
    if (!description) return reply(bad_request(description.error().message));
    return endpoints::acl_token_clone(ctx, *who, id, *description,
                                      reply_with<acl::Token>(std::move(reply), write_token_full));
  }
  if (id.empty() && req.method != "PUT") return reply(bad_request("Missing token ID"));
  if (req.method == "GET") {
    return reply_read(
        req, reply,
        [&ctx, who = *who, id](state::WatchSet& ws) {
          return endpoints::acl_token_read(ctx, who, ws, id);
        },
        write_token_full);
  }
  if (req.method == "DELETE") {
    return endpoints::acl_token_delete(ctx, *who, request_token(req), id,
                                       reply_bool(std::move(reply)));
  }
  boost::json::value holder;
  const auto* body = body_of(req, holder, kTokenDecode, reply);
  if (body == nullptr) return;
  auto token = read_token(*body, kTokenDecode);
  if (!token) return reply(bad_request(token.error().message));
  if (!token->accessor_id.empty() && token->accessor_id != id) {
    return reply(bad_request("Token Accessor ID in URL and payload do not match"));
  }
  token->accessor_id = id;
  endpoints::acl_token_update(ctx, *who, std::move(*token),
                              reply_with<acl::Token>(std::move(reply), write_token_full));
}

void acl_token_self(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) {
    return reply(acl_error_response(endpoints::acl_disabled()));
  }
  reply_read(
      req, reply,
      [&ctx, secret = request_token(req)](state::WatchSet& ws) {
        return endpoints::acl_token_self(ctx, ws, secret);
      },
      write_token_full);
}

void acl_token_list(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  const std::string* policy = req.query_param("policy");
  const std::string* role = req.query_param("role");
  reply_read(
      req, reply,
      [&ctx, who = *who, policy = policy ? *policy : "", role = role ? *role : ""](
          state::WatchSet& ws) { return endpoints::acl_token_list(ctx, who, ws, policy, role); },
      [](JsonWriter& w, const std::vector<acl::Token>& tokens) {
        w.begin_array();
        for (const auto& t : tokens) write_token(w, t, true);
        w.end_array();
      });
}

void acl_policy_create(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  boost::json::value holder;
  const auto* body = body_of(req, holder, kPolicyDecode, reply);
  if (body == nullptr) return;
  auto policy = read_policy(*body, kPolicyDecode);
  if (!policy) return reply(bad_request(policy.error().message));
  if (!policy->id.empty()) {
    return reply(bad_request("Cannot specify the ID when creating a new policy"));
  }
  endpoints::acl_policy_set(ctx, *who, std::move(*policy), true,
                            reply_with<acl::Policy>(std::move(reply), write_policy_full));
}

void acl_policy(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  std::string id(path_suffix(req, "/v1/acl/policy/"));
  if (id.empty() && req.method != "PUT") return reply(bad_request("Missing policy ID"));
  if (req.method == "GET") {
    return reply_read(
        req, reply,
        [&ctx, who = *who, id](state::WatchSet& ws) {
          return endpoints::acl_policy_read(ctx, who, ws, id, false);
        },
        write_policy_full);
  }
  if (req.method == "DELETE") {
    return endpoints::acl_policy_delete(ctx, *who, id, reply_bool(std::move(reply)));
  }
  boost::json::value holder;
  const auto* body = body_of(req, holder, kPolicyDecode, reply);
  if (body == nullptr) return;
  auto policy = read_policy(*body, kPolicyDecode);
  if (!policy) return reply(bad_request(policy.error().message));
  if (!policy->id.empty() && policy->id != id) {
    return reply(bad_request("Policy ID in URL and payload do not match"));
  }
  policy->id = id;
  endpoints::acl_policy_set(ctx, *who, std::move(*policy), false,
                            reply_with<acl::Policy>(std::move(reply), write_policy_full));
}

void acl_policy_by_name(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  std::string name(path_suffix(req, "/v1/acl/policy/name/"));
  if (name.empty()) return reply(bad_request("Missing policy Name"));
  reply_read(
      req, reply,
      [&ctx, who = *who, name](state::WatchSet& ws) {
        return endpoints::acl_policy_read(ctx, who, ws, name, true);
      },
      write_policy_full);
}

void acl_policy_list(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  reply_read(
      req, reply,
      [&ctx, who = *who](state::WatchSet& ws) { return endpoints::acl_policy_list(ctx, who, ws); },
      [](JsonWriter& w, const std::vector<acl::Policy>& policies) {
        w.begin_array();
        for (const auto& p : policies) write_policy(w, p, true);
        w.end_array();
      });
}

void acl_role_create(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  boost::json::value holder;
  const auto* body = body_of(req, holder, kRoleDecode, reply);
  if (body == nullptr) return;
  auto role = read_role(*body, kRoleDecode);
  if (!role) return reply(bad_request(role.error().message));
  if (!role->id.empty())
    return reply(bad_request("Cannot specify the ID when creating a new role"));
  endpoints::acl_role_set(ctx, *who, std::move(*role), true,
                          reply_with<acl::Role>(std::move(reply), write_role));
}

void acl_role(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  std::string id(path_suffix(req, "/v1/acl/role/"));
  if (id.empty() && req.method != "PUT") return reply(bad_request("Missing role ID"));
  if (req.method == "GET") {
    return reply_read(
        req, reply,
        [&ctx, who = *who, id](state::WatchSet& ws) {
          return endpoints::acl_role_read(ctx, who, ws, id, false);
        },
        write_role);
  }
  if (req.method == "DELETE") {
    return endpoints::acl_role_delete(ctx, *who, id, reply_bool(std::move(reply)));
  }
  boost::json::value holder;
  const auto* body = body_of(req, holder, kRoleDecode, reply);
  if (body == nullptr) return;
  auto role = read_role(*body, kRoleDecode);
  if (!role) return reply(bad_request(role.error().message));
  if (!role->id.empty() && role->id != id) {
    return reply(bad_request("Role ID in URL and payload do not match"));
  }
  role->id = id;
  endpoints::acl_role_set(ctx, *who, std::move(*role), false,
                          reply_with<acl::Role>(std::move(reply), write_role));
}

void acl_role_by_name(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  std::string name(path_suffix(req, "/v1/acl/role/name/"));
  if (name.empty()) return reply(bad_request("Missing role Name"));
  reply_read(
      req, reply,
      [&ctx, who = *who, name](state::WatchSet& ws) {
        return endpoints::acl_role_read(ctx, who, ws, name, true);
      },
      write_role);
}

void acl_role_list(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = acl_caller(ctx, req, reply);
  if (!who) return;
  const std::string* policy = req.query_param("policy");
  reply_read(
      req, reply,
      [&ctx, who = *who, policy = policy ? *policy : ""](state::WatchSet& ws) {
        return endpoints::acl_role_list(ctx, who, ws, policy);
      },
      [](JsonWriter& w, const std::vector<acl::Role>& roles) {
        w.begin_array();
        for (const auto& r : roles) write_role(w, r);
        w.end_array();
      });
}

}  // namespace pc::http::handlers
