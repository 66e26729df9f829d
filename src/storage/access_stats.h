// What a key remembers about its accesses, for OBJECT IDLETIME and OBJECT FREQ and (later) for
// eviction: one 32-bit word per key whose meaning follows the maxmemory-policy, as in Redis:
//   LRU policies (and noeviction): the Unix time of the last access, in seconds;
//   LFU policies: (minutes clock << 8) | logarithmic access counter, Redis's LFU scheme
//   (counter starts at 5, grows with probability 1/((counter-5)*log_factor+1), decays by one
//   per decay-time minutes without access).
// Switching policy at run time reinterprets old words, and they settle as keys are accessed,
// exactly the caveat Redis documents.
#pragma once

#include <atomic>
#include <cstdint>

namespace shoal::storage {

class AccessStats {
 public:
  static constexpr uint8_t kLfuInitVal = 5;

  // Set from the maxmemory-policy; read on every key access.
  static void SetLfuMode(bool lfu) { lfu_mode_.store(lfu, std::memory_order_relaxed); }
  static bool LfuMode() { return lfu_mode_.load(std::memory_order_relaxed); }
  static void SetLfuParams(int log_factor, int decay_minutes) {
    log_factor_.store(log_factor, std::memory_order_relaxed);
    decay_minutes_.store(decay_minutes, std::memory_order_relaxed);
  }

  // The word for a key created at `now_ms`.
  static uint32_t Initial(int64_t now_ms);
  // The word after an access at `now_ms`. `random01` is uniform in [0, 1).
  static uint32_t OnAccess(uint32_t word, int64_t now_ms, double random01);
  // Seconds since the last access (LRU reading).
  static int64_t IdleSeconds(uint32_t word, int64_t now_ms);
  // The decayed access counter (LFU reading), without recording an access.
  static uint8_t Frequency(uint32_t word, int64_t now_ms);
  // Words that RESTORE ... IDLETIME / FREQ set (Redis's objectSetLRUOrLFU): last accessed
  // `idle_s` seconds before `now_ms`; accessed now with counter `freq`.
  static uint32_t WithIdle(int64_t idle_s, int64_t now_ms);
  static uint32_t WithFrequency(uint8_t freq, int64_t now_ms);

 private:
  static inline std::atomic<bool> lfu_mode_{false};
  static inline std::atomic<int> log_factor_{10};    // lfu-log-factor
  static inline std::atomic<int> decay_minutes_{1};  // lfu-decay-time
};

}  // namespace shoal::storage
