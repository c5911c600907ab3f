#pragma once
// Result<T>: a value or a core::Error, shaped like std::expected so the switch to C++23 is
// cheap. Always check before reading the value; value() on an error is a broken invariant.
#include <utility>
#include <variant>

#include "core/assert.h"
#include "core/error.h"

namespace pc::core {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    PC_ASSERT(has_value(), "Result::value() on error: {}", std::get<1>(data_).message);
    return std::get<0>(data_);
  }
  const T& value() const& {
    PC_ASSERT(has_value(), "Result::value() on error: {}", std::get<1>(data_).message);
    return std::get<0>(data_);
  }
  T&& value() && {
    PC_ASSERT(has_value(), "Result::value() on error: {}", std::get<1>(data_).message);
    return std::get<0>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    PC_ASSERT(!has_value(), "Result::error() on a value");
    return std::get<1>(data_);
  }

 private:
  std::variant<T, Error> data_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT implicit
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    PC_ASSERT(!ok_, "Result::error() on a value");
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() {
  return Status();
}

}  // namespace pc::core
