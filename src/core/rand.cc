#include "core/rand.h"

#include <cstdio>
#include <mutex>
#include <random>
#include <string_view>

namespace pc::core {

struct SystemRand::Impl {
  std::mutex mu;
  std::mt19937_64 engine;
};

SystemRand::SystemRand() : impl_(new Impl) {
  std::random_device device;
  impl_->engine.seed((static_cast<std::uint64_t>(device()) << 32) ^ device());
}

SystemRand::SystemRand(std::uint64_t seed) : impl_(new Impl) {
  impl_->engine.seed(seed);
}

SystemRand::~SystemRand() {
  delete impl_;
}

std::uint64_t SystemRand::next_u64() {
  std::lock_guard lock(impl_->mu);
  return impl_->engine();
}

std::string make_uuid(Rand& rand) {
  std::uint64_t hi = rand.next_u64();
  std::uint64_t lo = rand.next_u64();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace pc::core
