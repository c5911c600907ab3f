#pragma once
// Every queue, batch, payload and wait has a named limit here (shared/STYLE.md rule 5).
// Values follow Consul's where Consul has one; the reason sits beside each.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace pc::core::limits {

// Consul's KV value limit (kv_max_value_size default, 512 KiB); larger PUTs get 413.
inline constexpr std::size_t kv_value_size_max = 512 * 1024;
// Consul's txn_max_req_len default: the whole /v1/txn body.
inline constexpr std::size_t txn_request_size_max = 512 * 1024;
// Consul's maxTxnOps: operations in one /v1/txn request.
inline constexpr std::size_t txn_ops_max = 64;
// Largest HTTP request body we read at all; bigger is refused before buffering.
inline constexpr std::size_t http_body_size_max = 1024 * 1024;
inline constexpr std::size_t http_header_size_max = 64 * 1024;
static_assert(http_body_size_max > kv_value_size_max, "a max-size KV PUT must reach the 413 check");
static_assert(http_body_size_max > txn_request_size_max);

// Blocking queries: Consul's defaults (agent/consul/rpc.go): 5 minutes default, 10 max, and a
// random jitter of up to wait/16 added so many clients do not wake together.
inline constexpr std::chrono::minutes blocking_wait_default{5};
inline constexpr std::chrono::minutes blocking_wait_max{10};
inline constexpr int blocking_jitter_fraction = 16;

// Sessions (Consul's SessionTTLMin/Max and default lock delay); TTL timers run at 2x TTL.
inline constexpr std::chrono::seconds session_ttl_min{10};
inline constexpr std::chrono::hours session_ttl_max{24};
inline constexpr std::chrono::seconds session_lock_delay_default{15};
inline constexpr std::chrono::seconds session_lock_delay_max{60};
inline constexpr int session_ttl_multiplier = 2;

// Commands waiting for the log; a writer beyond this gets Unavailable instead of piling up.
inline constexpr std::size_t log_proposals_queued_max = 65536;
// Entries applied per batch before readers see a new version.
inline constexpr std::size_t log_apply_batch_max = 1024;

// Keys and names.
inline constexpr std::size_t kv_key_size_max = 8 * 1024;
inline constexpr std::size_t session_checks_max = 64;

// HCL and JSON documents read by core/hcl.h (ACL rules, configuration, service definitions).
// The parser recurses once per nesting level and the tree is freed recursively, so depth is
// what bounds the stack; size bounds memory. Consul sets neither; real documents are a few
// KiB and a handful of levels deep.
inline constexpr std::size_t hcl_document_size_max = 1024 * 1024;
inline constexpr std::size_t hcl_nesting_depth_max = 64;
static_assert(hcl_nesting_depth_max * 2 < hcl_document_size_max);

// Audit events waiting for the audit log's writer thread. Consul's only delivery guarantee is
// best-effort: beyond this an event is dropped (and counted) rather than holding a request.
inline constexpr std::size_t audit_events_queued_max = 65536;

}  // namespace pc::core::limits
