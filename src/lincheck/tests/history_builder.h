#pragma once
// Terse constructors of operations for the checker's tests: times are plain numbers, and
// an unknown outcome has no return time.
#include <string>

#include "lincheck/history.h"

namespace pc::lincheck::testing {

inline constexpr std::uint64_t kProcess = 1;

inline Operation write(const std::string& key, Value value, std::uint64_t call, std::uint64_t ret,
                       std::uint64_t process = kProcess) {
  Operation op;
  op.process = process;
  op.type = OpType::kWrite;
  op.key = key;
  op.value = std::move(value);
  op.call_ns = call;
  op.return_ns = ret;
  return op;
}

inline Operation write_unknown(const std::string& key, Value value, std::uint64_t call) {
  Operation op = write(key, std::move(value), call, 0);
  op.outcome = Outcome::kUnknown;
  op.return_ns.reset();
  return op;
}

inline Operation read(const std::string& key, Value value, std::uint64_t call, std::uint64_t ret,
                      std::uint64_t process = kProcess) {
  Operation op = write(key, std::move(value), call, ret, process);
  op.type = OpType::kRead;
  return op;
}

inline Operation stale_read(const std::string& key, Value value, std::uint64_t index,
                            std::uint64_t call, std::uint64_t ret, std::uint64_t process) {
  Operation op = read(key, std::move(value), call, ret, process);
  op.mode = ReadMode::kStale;
  op.index = index;
  return op;
}

inline Operation cas(const std::string& key, Value expected, Value value, Outcome outcome,
                     std::uint64_t call, std::uint64_t ret) {
  Operation op = write(key, std::move(value), call, ret);
  op.type = OpType::kCas;
  op.expected = std::move(expected);
  op.outcome = outcome;
  if (outcome == Outcome::kUnknown) op.return_ns.reset();
  return op;
}

}  // namespace pc::lincheck::testing
