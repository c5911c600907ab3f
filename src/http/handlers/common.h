#pragma once
// Pieces shared by the handlers: blocking-read setup, and rendering of Consul's rows.
#include <functional>
#include <string>
#include <string_view>

#include "http/handler.h"
#include "http/json/writer.h"
#include "state/types.h"

namespace pc::http::handlers {

// Parses ?index, ?wait, ?stale, ?consistent; replies 400 on bad options, otherwise replies
// with a BlockingRead running `run`. Sets X-Consul-Effective-Consistency like Consul.
void reply_blocking(const Request& req, Reply& reply,
                    std::function<ReadOutcome(state::WatchSet&)> run);

// `true` / `false` as Consul's write endpoints answer.
Response bool_response(bool value);

// The part of the path after `prefix` ("/v1/kv/a/b" with "/v1/kv/" -> "a/b").
std::string_view path_suffix(const Request& req, std::string_view prefix);

void write_dir_entry(JsonWriter& w, const state::DirEntry& e, bool with_value);
void write_session(JsonWriter& w, const state::Session& s);

}  // namespace pc::http::handlers
