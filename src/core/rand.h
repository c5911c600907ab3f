#pragma once
// Randomness seam: production uses a seeded-from-the-OS generator; simulations inject a
// seeded one so a run replays from its seed. Thread-safe.
#include <cstdint>
#include <string>

namespace pc::core {

class Rand {
 public:
  virtual ~Rand() = default;
  virtual std::uint64_t next_u64() = 0;
};

// Mutex-guarded mt19937_64 seeded from std::random_device (or a fixed seed).
class SystemRand final : public Rand {
 public:
  SystemRand();
  explicit SystemRand(std::uint64_t seed);
  ~SystemRand() override;
  std::uint64_t next_u64() override;

 private:
  struct Impl;
  Impl* impl_;
};

// A random (version 4) UUID in Consul's lowercase 8-4-4-4-12 form.
std::string make_uuid(Rand& rand);
bool is_uuid(std::string_view text);

}  // namespace pc::core
