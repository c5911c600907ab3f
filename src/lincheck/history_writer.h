#pragma once
// Writes a history as the JSON Lines file lincheck/jsonl.h reads (docs/testing.md), so a
// history recorded in-process (the Raft simulation) can be replayed with the command-line
// tool. No JSON library: the format is small and this keeps pc::lincheck free of Boost.
#include <string>

#include "lincheck/history.h"

namespace pc::lincheck {

std::string encode_history_jsonl(const History& history);

}  // namespace pc::lincheck
