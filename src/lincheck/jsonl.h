#pragma once
// The history file: JSON Lines, one operation per line (format in docs/testing.md). The
// bytes are untrusted (another program wrote them, perhaps half-way before it died), so
// every problem is an InvalidArgument naming its line; a fuzzer covers this decoder.
// Boost.JSON stays inside jsonl.cc.
//
// Thread-safety: a pure function.
#include <cstddef>
#include <string_view>

#include "core/result.h"
#include "lincheck/history.h"

namespace pc::lincheck {

// Limits on what one file may hold, so a hostile or runaway file fails fast instead of
// exhausting memory in the search (whose cache grows with the operations per key).
inline constexpr std::size_t history_ops_max = 1'000'000;
inline constexpr std::size_t history_line_size_max = 1024 * 1024;

// Blank lines are skipped; unknown fields are ignored (the recorder may add its own).
core::Result<History> parse_history_jsonl(std::string_view text);

}  // namespace pc::lincheck
