#pragma once
// The operations a linearizability check reads: calls to a set of independent KV registers
// (one register per key), each with the time it was invoked and the time it completed.
// docs/testing.md describes the JSON Lines file these come from (lincheck/jsonl.h).
//
// Plain values; no invariants beyond the field comments (check() validates what it needs).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pc::lincheck {

// A register's content: a value, or nothing (the key is absent).
using Value = std::optional<std::string>;

enum class OpType : std::uint8_t { kWrite, kRead, kCas };

// What the client learned about the operation.
enum class Outcome : std::uint8_t {
  kOk,       // acknowledged (cas: succeeded)
  kFailed,   // definitely had no effect (cas: the register did not hold `expected`)
  kUnknown,  // timed out or lost: it may take effect at any time after its call, or never
};

enum class ReadMode : std::uint8_t { kDefault, kConsistent, kStale };

struct Operation {
  std::uint64_t process = 0;
  OpType type = OpType::kRead;
  std::string key;
  // write: the value written (nullopt: a delete); read: the value read (nullopt: absent);
  // cas: the new value.
  Value value;
  Value expected;  // cas only: what the register must hold for the cas to succeed
  Outcome outcome = Outcome::kOk;
  ReadMode mode = ReadMode::kDefault;  // reads only
  std::optional<std::uint64_t> index;  // reads only: the index the server reported
  std::string server;                  // optional: which server answered ("" unknown)
  std::uint64_t call_ns = 0;
  std::optional<std::uint64_t> return_ns;  // nullopt when the outcome is unknown
  std::size_t line = 0;                    // where it came from (1-based), 0 if not a file
};

using History = std::vector<Operation>;

}  // namespace pc::lincheck
