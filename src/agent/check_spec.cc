#include "agent/check_spec.h"

namespace pc::agent {

core::Status classify_and_validate(CheckSpec& spec) {
  if (spec.kind == CheckKind::kManual) return core::ok();
  bool interval_check =
      !spec.args.empty() || !spec.http.empty() || !spec.tcp.empty() || !spec.grpc.empty();
  if (spec.interval.count() > 0 && spec.ttl.count() > 0) {
    return core::make_error(core::Code::kInvalidArgument,
                            "Interval and TTL cannot both be specified");
  }
  if (interval_check && spec.interval.count() <= 0) {
    return core::make_error(core::Code::kInvalidArgument,
                            "Interval must be > 0 for Script, HTTP, or TCP checks");
  }
  const bool alias = !spec.alias_node.empty() || !spec.alias_service.empty();
  if (interval_check && alias) {
    return core::make_error(core::Code::kInvalidArgument,
                            "Interval cannot be set for Alias checks");
  }
  if (alias && spec.ttl.count() > 0) {
    return core::make_error(core::Code::kInvalidArgument,
                            "TTL must be not be set for Alias checks");
  }
  if (!interval_check && !alias && spec.ttl.count() <= 0) {
    return core::make_error(core::Code::kInvalidArgument, "TTL must be > 0 for TTL checks");
  }
  spec.kind = !spec.args.empty()   ? CheckKind::kScript
              : !spec.http.empty() ? CheckKind::kHttp
              : !spec.tcp.empty()  ? CheckKind::kTcp
              : !spec.grpc.empty() ? CheckKind::kGrpc
              : alias              ? CheckKind::kAlias
                                   : CheckKind::kTtl;
  return core::ok();
}

const char* check_type_name(CheckKind kind) {
  switch (kind) {
    case CheckKind::kTtl: return "ttl";
    case CheckKind::kHttp: return "http";
    case CheckKind::kTcp: return "tcp";
    case CheckKind::kScript: return "script";
    case CheckKind::kGrpc: return "grpc";
    case CheckKind::kAlias: return "alias";
    case CheckKind::kManual: return "";
  }
  return "";
}

}  // namespace pc::agent
